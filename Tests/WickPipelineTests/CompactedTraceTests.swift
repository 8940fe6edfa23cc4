import Testing
import WickJSON
import WickModel
import WickStore
@testable import WickPipeline
import WickTestSupport

/// A compacted document stands for the events it replaced: folding it, alone or with events that
/// came later, gives what folding all the events would.
@Suite struct CompactedTraceTests {
    static func json(_ text: String) -> JSONValue { try! JSONValue.parse(text) }

    static let start: Int64 = 1_767_225_600_000_000

    static func iso(_ milliseconds: Int64) -> JSONValue {
        .string(Timestamp(microsecondsSinceEpoch: start + milliseconds * 1000)!.iso8601)
    }

    /// Random traces from the fold's property test, as records in arrival order.
    static func records(_ specs: [Spec]) -> [StoredRecord] {
        specs.enumerated().map { position, spec in
            StoredRecord(sequence: UInt64(position + 1), kind: .rawEvent, receiveTime: start + Int64(position),
                         project: "p", keys: [TraceDocuments.traceIndexKey("t1")], payload: spec.line)
        }
    }

    typealias Spec = RandomTrace.Spec

    static func document(_ records: [StoredRecord], sequence: UInt64) -> StoredRecord {
        let loaded = TraceLoader.assemble("t1", project: "p", records: records, prices: .defaults)
        let payload = CompactedTrace.document(loaded.folded, receivedFirst: loaded.times.created,
                                              receivedLast: loaded.times.updated)
        return StoredRecord(sequence: sequence, kind: .compactedDocument, receiveTime: loaded.times.updated, project: "p",
                            keys: [TraceDocuments.traceIndexKey("t1")], payload: payload)
    }

    @Test func aDocumentFoldsToTheTraceItReplaced() {
        var generator = SplitMix(seed: 20261129)
        for _ in 0..<300 {
            let records = Self.records(RandomTrace.specs(&generator))
            let expected = TraceLoader.assemble("t1", project: "p", records: records, prices: .defaults)
            let document = Self.document(records, sequence: 1)
            let folded = TraceLoader.assemble("t1", project: "p", records: [document], prices: .defaults)
            #expect(folded.lateRejects.isEmpty)
            #expect(folded.folded == expected.folded)
            #expect(folded.summary == expected.summary)
            #expect(folded.times.created == expected.times.created && folded.times.updated == expected.times.updated)
        }
    }

    /// Events newer than everything a document holds fold onto it exactly as onto the events.
    @Test func laterEventsMergeIntoADocumentAsIntoTheEvents() {
        var generator = SplitMix(seed: 7)
        var merged = 0
        for _ in 0..<300 {
            let specs = RandomTrace.specs(&generator)
            let cut = Int64.random(in: 0...6, using: &generator)
            let records = Self.records(specs)
            let expected = TraceLoader.assemble("t1", project: "p", records: records, prices: .defaults)
            let early = zip(specs, records).filter { $0.0.at <= cut }.map(\.1)
            let late = zip(specs, records).filter { $0.0.at > cut }.map(\.1)
            guard !early.isEmpty, !late.isEmpty else { continue }
            let document = Self.document(early, sequence: 0)
            let folded = TraceLoader.assemble("t1", project: "p", records: [document] + late, prices: .defaults)
            #expect(folded.folded == expected.folded)
            #expect(folded.summary == expected.summary)
            merged += 1
        }
        #expect(merged > 100)
    }

    @Test func aDocumentKeepsCostsUsageAndTheBookkeeping() throws {
        let lines = [
            #"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t1","name":"chat","userId":"u"}}"#,
            #"{"id":"e2","type":"generation-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g","traceId":"t1","model":"gpt-4o","startTime":"2026-01-01T00:00:01Z","usageDetails":{"input":1000,"output":100}}}"#,
            #"{"id":"e2","type":"generation-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g","traceId":"t1","model":"gpt-4o","startTime":"2026-01-01T00:00:01Z","usageDetails":{"input":1000,"output":100}}}"#,
        ]
        let records = lines.enumerated().map {
            StoredRecord(sequence: UInt64($0.offset + 1), kind: .rawEvent, receiveTime: 100 + Int64($0.offset), project: "p",
                         keys: [], payload: Array($0.element.utf8))
        }
        let document = Self.document(records, sequence: 1)
        let head = try JSONValue.parse(document.payload)
        #expect(head["events"]?.numberValue?.int64Value == 2)
        #expect(head["duplicates"]?.numberValue?.int64Value == 1)
        #expect(head["received"] == Self.json("[100,102]"))
        // gpt-4o: $2.50/M input, $10/M output.
        #expect(head["totalCost"]?.numberValue?.text == "0.0035")
        #expect(head["usage"]?["total"]?.numberValue?.int64Value == 1100)
        let generation = try #require(head["observations"]?[0])
        #expect(generation["@type"]?.stringValue == "GENERATION")
        #expect(generation["@cost"] == Self.json(#"{"input":0.0025,"output":0.001,"total":0.0035}"#))
        // Defaults and the observation's own trace id are left out.
        #expect(generation["traceId"] == nil && generation["level"] == nil && generation["environment"] == nil)
        #expect(head["trace"]?["name"]?.stringValue == "chat")
    }
}
