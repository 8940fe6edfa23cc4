import Testing
import WickJSON
@testable import WickModel
import WickTestSupport

/// Any arrival order of a trace's events folds to the same result, provided events that tie (same
/// envelope timestamp, both creates or both updates) keep their relative order: that tie is the one
/// place Langfuse's rules fall back on arrival.
@Suite struct FoldPropertyTests {
    /// A random trace: trace-create events (first and updates), observations with a create and
    /// updates, scores; timestamps drawn from a narrow range so that ties are common.
    static func randomTrace(_ generator: inout SplitMix) -> [IngestionEvent] {
        randomSpecs(&generator).map { event($0.id, $0.type, at: $0.at, $0.body) }
    }

    struct Spec {
        var id: String
        var type: EventType
        var at: Int64
        var body: JSONObject

        /// The event as a client would send it.
        var line: [UInt8] {
            JSONValue.object(["id": .string(id), "type": .string(type.description), "timestamp": iso(at), "body": .object(body)])
                .serialized()
        }
    }

    static func randomSpecs(_ generator: inout SplitMix) -> [Spec] {
        var events: [Spec] = []
        func event(_ id: String, _ type: EventType, at: Int64, _ body: JSONObject) -> Spec {
            Spec(id: id, type: type, at: at, body: body)
        }
        var counter = 0
        func nextID() -> String {
            counter += 1
            return "e\(counter)"
        }
        func at(_ generator: inout SplitMix) -> Int64 { Int64.random(in: 0...6, using: &generator) }
        func pick<T>(_ values: [T], _ generator: inout SplitMix) -> T { values[Int.random(in: 0..<values.count, using: &generator)] }
        func fields(_ generator: inout SplitMix) -> JSONObject {
            var body: JSONObject = [:]
            if Bool.random(using: &generator) { body["name"] = pick(["a", "b", "c", nil], &generator) }
            if Bool.random(using: &generator) {
                body["metadata"] = pick([["k": 1], ["k": 2, "n": ["x": 1]], ["n": ["y": 2]], "text", [:]], &generator)
            }
            if Bool.random(using: &generator) { body["input"] = pick(["q1", "q2", "", 0, ["m": 1]], &generator) }
            if Bool.random(using: &generator) { body["output"] = pick(["r1", false, ["c": "x"]], &generator) }
            return body
        }

        let traceEvents = Int.random(in: 0...3, using: &generator)
        for _ in 0..<traceEvents {
            var body = fields(&generator)
            body["id"] = "t1"
            if Bool.random(using: &generator) { body["tags"] = .array(pick([["x"], ["y", "x"], ["z"], []], &generator)) }
            if Bool.random(using: &generator) { body["userId"] = pick(["u1", "u2", nil], &generator) }
            if Bool.random(using: &generator) { body["public"] = true }
            if Bool.random(using: &generator) { body["environment"] = pick(["Prod", "langfuse-staging", "bad env!"], &generator) }
            events.append(event(nextID(), .traceCreate, at: at(&generator), body))
        }
        let observationCount = Int.random(in: 1...4, using: &generator)
        for index in 0..<observationCount {
            let kind = pick([(EventType.spanCreate, EventType.spanUpdate), (.generationCreate, .generationUpdate)], &generator)
            var create = fields(&generator)
            create["id"] = .string("o\(index)")
            create["traceId"] = "t1"
            create["startTime"] = iso(Int64.random(in: 0...3, using: &generator))
            if index > 0 { create["parentObservationId"] = .string("o\(Int.random(in: 0..<index, using: &generator))") }
            events.append(event(nextID(), kind.0, at: at(&generator), create))
            for _ in 0..<Int.random(in: 0...3, using: &generator) {
                var update = fields(&generator)
                update["id"] = .string("o\(index)")
                update["traceId"] = "t1"
                if Bool.random(using: &generator) { update["endTime"] = iso(Int64.random(in: 0...9, using: &generator)) }
                if Bool.random(using: &generator) { update["level"] = pick(["ERROR", "WARNING", nil], &generator) }
                if Bool.random(using: &generator) {
                    update["usageDetails"] = pick([["input": 3, "output": 1], ["input": 5], [:]], &generator)
                }
                if Bool.random(using: &generator) { update["startTime"] = iso(9) }  // immutable: ignored
                events.append(event(nextID(), kind.1, at: at(&generator), update))
            }
        }
        for index in 0..<Int.random(in: 0...2, using: &generator) {
            let body: JSONObject = ["id": .string("s\(index)"), "traceId": "t1", "name": "quality",
                                    "value": .number(JSONNumber(Int.random(in: 0...1, using: &generator)))]
            events.append(event(nextID(), .scoreCreate, at: at(&generator), body))
        }
        // At-least-once delivery: a few events arrive twice, byte for byte.
        for _ in 0..<Int.random(in: 0...2, using: &generator) {
            events.append(pick(events, &generator))
        }
        return events
    }

    /// Gives `events` the arrival order `permutation`, except that tied events keep the relative
    /// order they had.
    static func arrive(_ events: [IngestionEvent], in permutation: [Int]) -> [IngestionEvent] {
        var result = events
        for (arrival, index) in permutation.enumerated() { result[index] = result[index].with(sequence: UInt64(arrival)) }
        let groups = Dictionary(grouping: events.indices) { "\(events[$0].timestamp)|\(events[$0].type.isUpdate)" }
        for members in groups.values where members.count > 1 {
            let sequences = members.map { result[$0].sequence }.sorted()
            for (member, sequence) in zip(members, sequences) { result[member] = result[member].with(sequence: sequence) }
        }
        return result.shuffled()
    }

    @Test func anyOrderFoldsTheSame() {
        var generator = SplitMix(seed: 20261129)
        var compared = 0
        for _ in 0..<300 {
            let events = Self.randomTrace(&generator)
            let reference = TraceFold.fold(traceID: "t1", Self.arrive(events, in: Array(events.indices)))
            for _ in 0..<5 {
                let permutation = Array(events.indices).shuffled(using: &generator)
                let folded = TraceFold.fold(traceID: "t1", Self.arrive(events, in: permutation))
                #expect(folded == reference)
                compared += 1
            }
        }
        #expect(compared == 1500)
    }

    /// The test above would pass for a fold that ignored order altogether; this one shows that order
    /// decides: the same two updates, swapped in time, give different names.
    @Test func theTimestampDecidesWhichValueWins() {
        let a = TraceFold.fold(traceID: "t1", [
            event("e1", .traceCreate, at: 0, ["id": "t1", "name": "first"]),
            event("e2", .traceCreate, at: 1, ["id": "t1", "name": "second"]),
        ])
        let b = TraceFold.fold(traceID: "t1", [
            event("e1", .traceCreate, at: 1, ["id": "t1", "name": "first"]),
            event("e2", .traceCreate, at: 0, ["id": "t1", "name": "second"]),
        ])
        #expect(a.trace.name == "second")
        #expect(b.trace.name == "first")
    }
}

/// The assembler decodes with `.summary` scope: it must give the summaries and the late rejects a
/// full decode gives.
@Suite struct DecodeScopeTests {
    @Test func summaryScopeGivesTheSameSummaries() throws {
        var generator = SplitMix(seed: 77)
        for round in 0..<300 {
            var full: [IngestionEvent] = []
            var summary: [IngestionEvent] = []
            for (sequence, spec) in FoldPropertyTests.randomSpecs(&generator).enumerated() {
                let line = spec.line
                full.append(try IngestionEvent.decode(line, sequence: UInt64(sequence), receiveTime: 0, project: "p").get())
                summary.append(try IngestionEvent.decode(line, sequence: UInt64(sequence), receiveTime: 0, project: "p",
                                                         scope: .summary()).get())
            }
            let a = TraceSummary(TraceFold.fold(traceID: "t1", full, prices: .defaults), project: "p", lastReceived: 0)
            let b = TraceSummary(TraceFold.fold(traceID: "t1", summary, prices: .defaults), project: "p", lastReceived: 0)
            #expect(a == b, "round \(round)")
        }
    }

    @Test(arguments: [
        #"{"id":"e","type":"span-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","statusMessage":1}}"#,
        #"{"id":"e","type":"generation-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"g","model":[]}}"#,
        #"{"id":"e","type":"generation-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"g","modelParameters":"hot"}}"#,
        #"{"id":"e","type":"score-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","traceId":"t","name":"n","value":1,"comment":{}}}"#,
    ])
    func summaryScopeRejectsWhatFullRejects(_ line: String) {
        let full = IngestionEvent.decode(Array(line.utf8), sequence: 1, receiveTime: 0, project: "p")
        let summary = IngestionEvent.decode(Array(line.utf8), sequence: 1, receiveTime: 0, project: "p", scope: .summary())
        guard case .failure(let a) = full, case .failure(let b) = summary else {
            Issue.record("both scopes must reject \(line)")
            return
        }
        #expect(a.reason == b.reason)
    }
}
