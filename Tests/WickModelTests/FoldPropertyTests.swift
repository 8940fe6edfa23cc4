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
        RandomTrace.specs(&generator).map { event($0.id, $0.type, at: $0.at, $0.body) }
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
            for (sequence, spec) in RandomTrace.specs(&generator).enumerated() {
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
