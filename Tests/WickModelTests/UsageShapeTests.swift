import Testing
import WickJSON
@testable import WickModel

/// Every usage shape of reference §1.5, as a table: the body's usage fields → provided usage.
@Suite struct UsageShapeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var body: String
        var usage: [String: UInt64]
        var unit: String? = nil
        var costs: [String: Double] = [:]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "legacy Langfuse usage, no total", body: #"{"usage":{"input":10,"output":5,"unit":"TOKENS"}}"#,
             usage: ["input": 10, "output": 5, "total": 15], unit: "TOKENS"),
        Case(name: "legacy Langfuse usage with total and costs",
             body: #"{"usage":{"input":10,"output":5,"total":20,"unit":"CHARACTERS","inputCost":0.1,"outputCost":0.2,"totalCost":0.3}}"#,
             usage: ["input": 10, "output": 5, "total": 20], unit: "CHARACTERS",
             costs: ["input": 0.1, "output": 0.2, "total": 0.3]),
        Case(name: "legacy OpenAI camelCase usage", body: #"{"usage":{"promptTokens":7,"completionTokens":3,"totalTokens":10}}"#,
             usage: ["input": 7, "output": 3, "total": 10], unit: "TOKENS"),
        Case(name: "empty legacy usage is ignored", body: #"{"usage":{}}"#, usage: [:]),
        Case(name: "usageDetails map", body: #"{"usageDetails":{"input":8,"output":2,"cache_read":4}}"#,
             usage: ["input": 8, "output": 2, "cache_read": 4]),
        Case(name: "usageDetails numeric strings parse, non-integers drop",
             body: #"{"usageDetails":{"input":"12","output":1.5,"audio":-1,"x":"n/a"}}"#, usage: ["input": 12]),
        Case(name: "OpenAI Chat Completions shape subtracts details",
             body: #"{"usageDetails":{"prompt_tokens":100,"completion_tokens":40,"total_tokens":140,"prompt_tokens_details":{"cached_tokens":30,"audio_tokens":null},"completion_tokens_details":{"reasoning_tokens":15}}}"#,
             usage: ["input": 70, "output": 25, "total": 140, "input_cached_tokens": 30, "output_reasoning_tokens": 15]),
        Case(name: "OpenAI Responses shape subtracts details",
             body: #"{"usageDetails":{"input_tokens":50,"output_tokens":20,"total_tokens":70,"input_tokens_details":{"cached_tokens":10},"output_tokens_details":{"reasoning_tokens":5}}}"#,
             usage: ["input": 40, "output": 15, "total": 70, "input_cached_tokens": 10, "output_reasoning_tokens": 5]),
        Case(name: "subtraction floors at zero",
             body: #"{"usageDetails":{"prompt_tokens":5,"completion_tokens":0,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":9}}}"#,
             usage: ["input": 0, "output": 0, "total": 5, "input_cached_tokens": 9]),
        Case(name: "an OpenAI shape with a foreign key is a plain map",
             body: #"{"usageDetails":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6,"extra":2}}"#,
             usage: ["prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6, "extra": 2]),
        Case(name: "usageDetails overwrite usage; no computed total when details exist",
             body: #"{"usage":{"input":10,"output":5},"usageDetails":{"input":11}}"#, usage: ["input": 11, "output": 5]),
        Case(name: "costDetails overwrite legacy costs",
             body: #"{"usage":{"input":1,"inputCost":0.5,"totalCost":0.5},"costDetails":{"total":0.75,"input":0.25}}"#,
             usage: ["input": 1], costs: ["input": 0.25, "total": 0.75]),
    ]

    @Test(arguments: cases)
    func shapeNormalises(_ shape: Case) {
        let provided = ProvidedUsage.from(object(shape.body))
        #expect(provided.usage == shape.usage)
        #expect(provided.unit == shape.unit)
        #expect(provided.costs.mapValues(\.doubleValue) == shape.costs)
    }

    @Test func foldedObservationGetsATotalAndKeepsTheLastNonEmptyUsage() {
        let folded = TraceFold.fold(traceID: "t1", [
            event("e1", .generationCreate, at: 0, ["id": "g1", "traceId": "t1", "usageDetails": ["input": 8, "output": 2]]),
            event("e2", .generationUpdate, at: 1, ["id": "g1", "traceId": "t1", "usageDetails": [:]]),
        ])
        #expect(folded.observations[0].usageDetails == ["input": 8, "output": 2, "total": 10])

        let replaced = TraceFold.fold(traceID: "t1", [
            event("e1", .generationCreate, at: 0, ["id": "g1", "traceId": "t1", "usageDetails": ["input": 8, "output": 2]]),
            event("e2", .generationUpdate, at: 1, ["id": "g1", "traceId": "t1", "usage": ["input": 9, "output": 1, "total": 11]]),
        ])
        #expect(replaced.observations[0].usageDetails == ["input": 9, "output": 1, "total": 11])
    }
}
