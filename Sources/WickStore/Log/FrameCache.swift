/// Reads records by sequence number through the last few frames it decompressed. For a consumer
/// that reads back records it has seen before, in roughly the order they came (the assembler's
/// spilled traces settle oldest first): neighbouring records share frames, so each frame is
/// decompressed about once more, not once per record.
public final class FrameCache {
    private let reader: LogReader
    private let capacity: Int
    /// Most recently used last.
    private var frames: [(range: Range<UInt64>, records: [StoredRecord])] = []
    public private(set) var framesRead = 0

    public init(reader: LogReader, capacity: Int = 16) {
        self.reader = reader
        self.capacity = max(1, capacity)
    }

    /// The records with these sequence numbers that the log still holds, in sequence order, without
    /// their index keys.
    public func records(_ sequences: [UInt64]) throws -> [StoredRecord] {
        var result: [StoredRecord] = []
        result.reserveCapacity(sequences.count)
        for sequence in sequences.sorted() {
            if let record = try record(sequence) { result.append(record) }
        }
        return result
    }

    private func record(_ sequence: UInt64) throws -> StoredRecord? {
        if let position = frames.lastIndex(where: { $0.range.contains(sequence) }) {
            let frame = frames[position]
            if position != frames.count - 1 {
                frames.remove(at: position)
                frames.append(frame)
            }
            return Self.find(sequence, in: frame.records)
        }
        // Without their keys: a read-back needs payloads, and keys cost two allocations a record.
        guard let (first, records) = try reader.frame(containing: sequence, withKeys: false) else { return nil }
        framesRead += 1
        let end = records.last.map { $0.sequence + 1 } ?? first
        frames.append((first..<max(end, first + 1), records))
        if frames.count > capacity { frames.removeFirst() }
        return Self.find(sequence, in: records)
    }

    /// Closes its reader's segment if the log no longer has it (see ``LogReader/closeRetired()``).
    public func closeRetired() {
        reader.closeRetired()
    }

    private static func find(_ sequence: UInt64, in records: [StoredRecord]) -> StoredRecord? {
        var low = 0
        var high = records.count
        while low < high {
            let mid = (low + high) / 2
            if records[mid].sequence < sequence { low = mid + 1 } else { high = mid }
        }
        return low < records.count && records[low].sequence == sequence ? records[low] : nil
    }
}

/// Not Sendable: it holds one reader's buffers, used by one thread.
@available(*, unavailable)
extension FrameCache: Sendable {}
