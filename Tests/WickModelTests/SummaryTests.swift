import Testing
import WickJSON
@testable import WickModel

@Suite struct SummaryTests {
    static let events: [IngestionEvent] = [
        event("e1", .traceCreate, at: 0, ["id": "t1", "name": "chat", "userId": "u1", "sessionId": "s1",
                                          "tags": ["prod"], "input": "hi", "environment": "Production", "release": "r7"]),
        event("e2", .spanCreate, at: 1, ["id": "s1", "traceId": "t1", "name": "pipeline", "startTime": iso(1)]),
        event("e3", .generationCreate, at: 2, ["id": "g1", "traceId": "t1", "parentObservationId": "s1",
                                               "startTime": iso(2), "model": "gpt-4o-mini", "input": [["role": "user"]]]),
        event("e4", .generationUpdate, at: 1200, ["id": "g1", "traceId": "t1", "endTime": iso(1200),
                                                  "completionStartTime": iso(402),
                                                  "usageDetails": ["input": 8, "output": 2],
                                                  "costDetails": ["input": 0.001, "output": 0.002]]),
        event("e5", .toolCreate, at: 1300, ["id": "x1", "traceId": "t1", "parentObservationId": "s1", "startTime": iso(1300),
                                            "endTime": iso(1500), "level": "ERROR", "statusMessage": "timeout"]),
        event("e6", .eventCreate, at: 1400, ["id": "v1", "traceId": "t1", "parentObservationId": "missing", "level": "WARNING"]),
        event("e7", .spanUpdate, at: 1600, ["id": "s1", "traceId": "t1", "endTime": iso(1600)]),
        event("e8", .scoreCreate, at: 1700, ["id": "sc1", "traceId": "t1", "name": "helpful", "value": 1, "dataType": "BOOLEAN"]),
        event("e9", .scoreCreate, at: 1701, ["id": "sc2", "traceId": "t1", "name": "helpful", "value": 0, "dataType": "BOOLEAN"]),
        event("e10", .scoreCreate, at: 1702, ["id": "sc3", "traceId": "t1", "name": "tone", "value": "warm"]),
        event("e11", .traceCreate, at: 1800, ["id": "t1", "output": "hello"]),
    ]

    @Test func summaryCountsTimesUsageAndScores() throws {
        let folded = TraceFold.fold(traceID: "t1", Self.events)
        let summary = TraceSummary(folded, project: "p", lastReceived: 99)
        #expect(summary.name == "chat")
        #expect(summary.environment == "production")
        #expect(summary.start == time(0))
        #expect(summary.end == time(1600))
        #expect(summary.latency == 1.599, "first observation start to last observation end")
        #expect(summary.observationCounts == [.span: 1, .generation: 1, .tool: 1, .event: 1])
        #expect(summary.errors == 1)
        #expect(summary.warnings == 1)
        #expect(summary.usage == ["input": 8, "output": 2, "total": 10])
        #expect(try #require(summary.totalCost?.doubleValue).isApproximatelyEqual(0.003))
        #expect(summary.scores == [.init(name: "helpful", count: 2, average: 0.5), .init(name: "tone", count: 1, average: nil)])
        #expect(summary.events == 11)
        #expect(summary.treeProblems == 1, "the event whose parent never came")
        let generation = try #require(folded.observations.first { $0.id == "g1" })
        #expect(generation.timeToFirstToken == 0.4)
        #expect(generation.latency == 1.198)
    }

    @Test func summaryRoundTripsThroughItsJSON() throws {
        let summary = TraceSummary(TraceFold.fold(traceID: "t1", Self.events), project: "p", lastReceived: 99)
        let parsed = try JSONValue.parse(summary.json.serialized())
        #expect(TraceSummary(json: parsed) == summary)
        // The direct writer the assembler uses gives the same bytes.
        #expect(summary.serializedJSON() == summary.json.serialized())
        var odd = summary
        odd.name = "quote \" and \u{1}"
        odd.totalCost = nil
        odd.tags = []
        odd.scores = []
        #expect(odd.serializedJSON() == odd.json.serialized())
    }

    /// `wick trace --json` has the shape of `GET /api/public/traces/{id}`: every field the spec
    /// requires, and none it does not define.
    @Test func langfuseJSONMatchesTheOpenAPISpec() throws {
        let spec = try OpenAPISchemas.load()
        let folded = TraceFold.fold(traceID: "t1", Self.events)
        let summary = TraceSummary(folded, project: "p", lastReceived: 99)
        let json = LangfuseJSON.trace(folded, summary: summary, project: "p", times: .init(created: base, updated: base + 5))

        // Beyond the spec, Langfuse's handler returns the rows' projectId, createdAt and updatedAt, and
        // for the trace bookmarked and externalId (reference §7.1); scores carry their discriminator.
        let rowFields: Set<String> = ["projectId", "createdAt", "updatedAt"]
        func check(_ value: JSONValue?, against name: String, alsoAllowed: Set<String>) throws {
            let schema = try #require(spec.resolved(name), "schema \(name) is in the spec")
            let keys = Set(try #require(value?.objectValue).keys)
            #expect(schema.required.subtracting(keys).isEmpty, "\(name) lacks \(schema.required.subtracting(keys).sorted())")
            let extra = keys.subtracting(schema.properties).subtracting(alsoAllowed)
            #expect(extra.isEmpty, "\(name) has extra \(extra.sorted())")
        }
        try check(json, against: "TraceWithFullDetails", alsoAllowed: rowFields.union(["bookmarked", "externalId"]))
        let observations = try #require(json["observations"]?.arrayValue)
        #expect(observations.count == 4)
        for observation in observations { try check(observation, against: "ObservationsView", alsoAllowed: rowFields) }
        let scores = try #require(json["scores"]?.arrayValue)
        #expect(scores.count == 3)
        for score in scores {
            let variant = switch score["dataType"]?.stringValue {
            case "NUMERIC": "NumericScoreV1"
            case "BOOLEAN": "BooleanScoreV1"
            case "CATEGORICAL": "CategoricalScoreV1"
            default: "TextScoreV1"
            }
            try check(score, against: variant, alsoAllowed: ["dataType"])
        }
        #expect(json["latency"]?.numberValue?.doubleValue == 1.599)
        #expect(json["output"] == "hello")
        let generation = try #require(observations.first { $0["id"] == "g1" })
        #expect(generation["parentObservationId"] == "s1")
        #expect(generation["usageDetails"] == ["input": 8, "output": 2, "total": 10])
        #expect(generation["timeToFirstToken"]?.numberValue?.doubleValue == 0.4)
    }
}

extension Double {
    func isApproximatelyEqual(_ other: Double) -> Bool { abs(self - other) < 1e-12 }
}
