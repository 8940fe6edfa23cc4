import WickJSON
import WickModel
public import WickStore

/// Every event a data directory holds, as `wick export` writes them and `wick import` reads them:
/// compacted traces as one create event per entity (ids derived from their content; of a trace
/// compacted more than once, its newest document only), events compaction carried over as they
/// were, then the raw events past the range compaction replaced, as they came. Re-ingested
/// anywhere, they fold to the same traces. Damaged frames are skipped (`wick verify` reports them);
/// a document that does not decode is counted.
public enum StoredEvents: Sendable {
    public struct Counts: Sendable, Equatable {
        /// Records visited: documents, carried-over events, raw events.
        public var records = 0
        public var damagedDocuments = 0
        /// Frames of the raw log that failed their checksum while reading.
        public var damagedFrames = 0
        /// Where the compacted range ends: raw events from here on are read as they came.
        public var compactedBelow: UInt64 = 0
    }

    /// How many records `read` visits (compacted records and raw records past the compacted
    /// range): the total for a progress bar. `compactedRecords` when the caller knows it (from a
    /// verification), else the compacted segments are read to count them.
    public static func recordCount(_ reader: StoreReader, compactedRecords: Int? = nil) throws -> Int {
        let compacted = try reader.compactedSegments()
        var total = compactedRecords ?? 0
        if compactedRecords == nil {
            for segment in compacted {
                try reader.readRecords(of: segment) { _, _ in total += 1 }
            }
        }
        let below = compacted.map(\.covered.upperBound).max() ?? 0
        let first = try reader.segments().first?.firstSequence ?? 0
        let end = try reader.logEnd()
        return total + Int(end - min(end, max(below, first)))
    }

    /// Calls `body` with each event's project and its bytes (valid during the call only), and
    /// `progress` with the records visited so far. `raw: false` stops after the compacted range.
    @discardableResult
    public static func read(
        _ reader: StoreReader, raw: Bool = true, progress: (Int) -> Void = { _ in },
        _ body: (_ project: UnsafeRawBufferPointer, _ event: UnsafeRawBufferPointer) throws -> Void
    ) throws -> Counts {
        var counts = Counts()
        let compacted = try reader.compactedSegments()
        var compactedBelow: UInt64 = 0
        var tracesDone = Set<[UInt8]>()
        // Newest first: a trace's newest document replaces its older ones.
        for segment in compacted.reversed() {
            compactedBelow = max(compactedBelow, segment.covered.upperBound)
            try reader.readRecords(of: segment) { _, record in
                counts.records += 1
                defer { progress(counts.records) }
                guard record.kind == .compactedDocument else {
                    try body(record.project, record.payload)
                    return
                }
                var key = Array(record.project)
                record.forEachKey { _, bytes in
                    key.append(0)
                    key.append(contentsOf: bytes)
                }
                guard tracesDone.insert(key).inserted else { return }
                switch CompactedTrace.createEvents(record.payload) {
                case .success(let lines):
                    for line in lines { try line.withUnsafeBytes { try body(record.project, $0) } }
                case .failure:
                    counts.damagedDocuments += 1
                }
            }
        }
        counts.compactedBelow = compactedBelow
        guard raw else { return counts }
        let events = reader.eventReader()
        try events.read(from: compactedBelow) { _, record in
            counts.records += 1
            if record.kind == .rawEvent { try body(record.project, record.payload) }
            progress(counts.records)
        }
        counts.damagedFrames = events.damagedFrames
        return counts
    }
}
