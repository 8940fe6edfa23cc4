import Testing
import WickJSON

@testable import WickModel

/// One test per fold rule of reference §1.8.
@Suite struct MergeRuleTests {
    private func trace(_ events: [IngestionEvent]) -> Trace {
        TraceFold.fold(traceID: "t1", events).trace
    }

    private func observation(_ events: [IngestionEvent]) -> Observation {
        TraceFold.fold(traceID: "t1", events).observations[0]
    }

    @Test func laterDefinedValuesOverwrite() {
        let result = trace([
            event("e1", .traceCreate, at: 0, ["id": "t1", "name": "first", "userId": "u1"]),
            event("e2", .traceCreate, at: 10, ["id": "t1", "name": "second"]),
        ])
        #expect(result.name == "second")
        #expect(result.userId == "u1", "an absent key never erases")
    }

    @Test func orderIsTheEnvelopeTimestampNotArrival() {
        let result = trace([
            event("late", .traceCreate, at: 20, ["id": "t1", "name": "newest"], sequence: 1),
            event("early", .traceCreate, at: 10, ["id": "t1", "name": "older"], sequence: 2),
        ])
        #expect(result.name == "newest")
    }

    @Test func createsComeBeforeUpdatesOnTies() {
        let result = observation([
            event("u", .spanUpdate, at: 5, ["id": "s1", "traceId": "t1", "name": "from-update"], sequence: 1),
            event("c", .spanCreate, at: 5, ["id": "s1", "traceId": "t1", "name": "from-create"], sequence: 2),
        ])
        #expect(result.name == "from-update")
        #expect(result.type == .span)
    }

    @Test func explicitNullClearsOnlyTheListedFields() {
        let result = trace([
            event("e1", .traceCreate, at: 0, ["id": "t1", "name": "n", "userId": "u", "sessionId": "s", "release": "r", "version": "v"]),
            event("e2", .traceCreate, at: 1, ["id": "t1", "name": .null, "userId": .null, "sessionId": .null, "release": .null, "version": .null]),
        ])
        #expect(result.name == nil && result.userId == nil && result.sessionId == nil && result.release == nil && result.version == nil)

        let span = observation([
            event("e1", .generationCreate, at: 0, object(#"{"id":"g","traceId":"t1","name":"n","model":"m","level":"ERROR","statusMessage":"bad","parentObservationId":"p","version":"1","endTime":"2026-01-01T00:00:01Z","completionStartTime":"2026-01-01T00:00:00.5Z","modelParameters":{"temperature":0.1}}"#)),
            event("e2", .generationUpdate, at: 1, object(#"{"id":"g","name":null,"model":null,"level":null,"statusMessage":null,"parentObservationId":null,"version":null,"endTime":null,"completionStartTime":null,"modelParameters":null}"#)),
        ])
        #expect(span.name == nil && span.model == nil && span.level == .default, "null clears name, model, level")
        #expect(span.statusMessage == "bad" && span.parentObservationId == "p" && span.version == "1")
        #expect(span.endTime != nil && span.completionStartTime != nil && span.modelParameters != nil, "null means not given for the rest")
    }

    @Test func immutableAfterTheFirstValue() {
        let result = trace([
            event("e1", .traceCreate, at: 0, ["id": "t1", "timestamp": iso(100), "environment": "prod"]),
            event("e2", .traceCreate, at: 1, ["id": "t1", "timestamp": iso(999), "environment": "dev"]),
        ])
        #expect(result.timestamp == time(100))
        #expect(result.environment == "prod")

        let span = observation([
            event("e1", .spanCreate, at: 0, ["id": "s1", "traceId": "t1", "startTime": iso(5)]),
            event("e2", .spanUpdate, at: 9, ["id": "s1", "traceId": "other", "startTime": iso(7), "environment": "dev"]),
        ])
        #expect(span.startTime == time(5), "startTime cannot be updated (langfuse#4899)")
        #expect(span.traceId == "t1")
        #expect(span.environment == "default")
    }

    @Test func defaultsComeFromTheEnvelope() {
        let result = trace([event("e1", .traceCreate, at: 42, ["id": "t1"])])
        #expect(result.timestamp == time(42))
        let span = observation([event("e1", .eventCreate, at: 7, ["id": "x", "traceId": "t1"])])
        #expect(span.startTime == time(7))
        #expect(span.level == .default)
        #expect(span.type == .event)
    }

    @Test func metadataIsDeepMerged() {
        let result = trace([
            event("e1", .traceCreate, at: 0, ["id": "t1", "metadata": json(#"{"a":1,"nested":{"x":1,"y":[1,2]},"keep":"k"}"#)]),
            event("e2", .traceCreate, at: 1, ["id": "t1", "metadata": json(#"{"a":2,"nested":{"y":[9],"z":3}}"#)]),
            event("e3", .traceCreate, at: 2, ["id": "t1", "metadata": json("{}")]),
        ])
        #expect(JSONValue.object(result.metadata) == json(#"{"a":2,"nested":{"x":1,"y":[9,2],"z":3},"keep":"k"}"#))
    }

    @Test func primitiveMetadataIsWrapped() {
        let result = trace([event("e1", .traceCreate, at: 0, ["id": "t1", "metadata": "just text"])])
        #expect(result.metadata["metadata"] == .string("just text"))
    }

    @Test func tagsAreASortedSetUnion() {
        let result = trace([
            event("e1", .traceCreate, at: 0, ["id": "t1", "tags": json(#"["prod","eu"]"#)]),
            event("e2", .traceCreate, at: 1, ["id": "t1", "tags": json(#"["beta","eu"]"#)]),
            event("e3", .traceCreate, at: 2, ["id": "t1"]),
        ])
        #expect(result.tags == ["beta", "eu", "prod"])
    }

    @Test(arguments: [
        (#""""#, false), ("0", false), ("false", false), ("null", false),
        (#""x""#, true), ("1", true), ("true", true), ("{}", true), ("[]", true),
    ])
    func inputAndOutputTakeTheLastTruthyValue(_ later: String, _ replaces: Bool) {
        let result = trace([
            event("e1", .traceCreate, at: 0, ["id": "t1", "input": "first", "output": "first"]),
            event("e2", .traceCreate, at: 1, ["id": "t1", "input": json(later), "output": json(later)]),
        ])
        #expect(result.input == (replaces ? json(later) : .string("first")))
        #expect(result.output == (replaces ? json(later) : .string("first")))
    }

    @Test func endTimeIsClampedToStartTime() {
        let span = observation([event("e1", .spanCreate, at: 0, ["id": "s", "traceId": "t1", "startTime": iso(50), "endTime": iso(10)])])
        #expect(span.endTime == time(50))
    }

    @Test(arguments: [
        ("Production", "production"), ("langfuse-prod", "prod"), ("langfuselangfuse_x", "x"), ("has space", "default"),
        ("UPPER_case-1", "upper_case-1"), (String(repeating: "a", count: 60), String(repeating: "a", count: 40)), ("", "default"),
    ])
    func environmentIsNormalised(_ raw: String, _ expected: String) {
        #expect(MergeRules.normaliseEnvironment(raw) == expected)
        #expect(MergeRules.normaliseEnvironment(nil) == "default")
    }

    @Test func duplicateEventIdsFoldOnce() {
        let folded = TraceFold.fold(traceID: "t1", [
            event("same", .traceCreate, at: 0, ["id": "t1", "tags": json(#"["a"]"#)], sequence: 1),
            event("same", .traceCreate, at: 5, ["id": "t1", "tags": json(#"["b"]"#)], sequence: 2),
        ])
        #expect(folded.trace.tags == ["a"], "the copy that arrived first counts")
        #expect(folded.duplicateEvents == 1)
    }

    @Test func publicIsResetByATraceCreateWithoutIt() {
        let result = trace([
            event("e1", .traceCreate, at: 0, ["id": "t1", "public": true]),
            event("e2", .traceCreate, at: 1, ["id": "t1", "name": "x"]),
        ])
        #expect(result.isPublic == false, "Langfuse's quirk: every trace-create sets public")
    }

    @Test func typeIsFixedByTheFirstEvent() {
        let generation = observation([
            event("c", .generationCreate, at: 0, ["id": "g", "traceId": "t1"]),
            event("u", .spanUpdate, at: 1, ["id": "g", "traceId": "t1", "name": "n"]),
        ])
        #expect(generation.type == .generation)
        let legacy = observation([event("c", .observationCreate, at: 0, ["id": "o", "traceId": "t1", "type": "EVENT"])])
        #expect(legacy.type == .event)
        let agent = observation([event("c", .agentCreate, at: 0, ["id": "a", "traceId": "t1"])])
        #expect(agent.type == .agent)
    }

    @Test func tracesWithoutTraceCreateStillExist() {
        let folded = TraceFold.fold(traceID: "t9", [event("c", .spanCreate, at: 30, ["id": "s", "traceId": "t9", "environment": "dev"])])
        #expect(folded.trace.hasTraceEvent == false)
        #expect(folded.trace.timestamp == time(30))
        #expect(folded.trace.environment == "dev")
        #expect(folded.observations.count == 1)
    }

    @Test func scoresFoldByTheirDataType() {
        let folded = TraceFold.fold(traceID: "t1", [
            event("s1", .scoreCreate, at: 0, ["id": "a", "traceId": "t1", "name": "ok", "value": 1, "dataType": "BOOLEAN"]),
            event("s2", .scoreCreate, at: 0, ["id": "b", "traceId": "t1", "name": "label", "value": "good"]),
            event("s3", .scoreCreate, at: 0, ["id": "c", "traceId": "t1", "name": "q", "value": 3.5]),
            event("s4", .scoreCreate, at: 1, ["id": "c", "traceId": "t1", "name": "q", "value": 4, "comment": "better"]),
            event("s5", .scoreCreate, at: 2, ["id": "d", "traceId": "t1", "name": "anything", "value": "fixed", "dataType": "CORRECTION"]),
        ])
        let byID = Dictionary(uniqueKeysWithValues: folded.scores.map { ($0.id, $0) })
        #expect(byID["a"]?.dataType == .boolean && byID["a"]?.stringValue == "True" && byID["a"]?.value == 1)
        #expect(byID["b"]?.dataType == .categorical && byID["b"]?.stringValue == "good")
        #expect(byID["c"]?.value == 4 && byID["c"]?.comment == "better")
        #expect(byID["d"]?.name == "output", "CORRECTION scores are named output")
    }
}
