/// A few segment readers kept open from one lookup to the next by one thread. A reader of a
/// sealed segment keeps its last frame decompressed, so lookups that follow one another through
/// the same frame — the assembler reopening the traces of a batch of late scores in the order of
/// their compacted documents — decompress it once instead of once each. The least recently used
/// reader is closed past `capacity` (each holds a frame's buffers, about 2 MiB for a compacted one).
public final class OpenSegments {
    private let capacity: Int
    /// Most recently used last.
    private var readers: [SegmentReader] = []

    public init(capacity: Int = 8) {
        self.capacity = max(1, capacity)
    }

    /// Frames of sealed segments its readers, open or closed since, decompressed.
    public var sealedFramesDecompressed: Int { closedReadersFrames + readers.reduce(0) { $0 + $1.sealedFramesDecompressed } }
    private var closedReadersFrames = 0

    /// Closes the readers of segments no longer in `segments` (retired by compaction or
    /// retention): an open descriptor would keep a deleted file's space from the disk.
    func keep(only segments: [SegmentInfo]) {
        guard !readers.isEmpty else { return }
        let live = Set(segments.map { SegmentKey(id: $0.id, path: $0.path) })
        readers.removeAll { reader in
            guard !live.contains(SegmentKey(id: reader.segmentID, path: reader.path)) else { return false }
            forget(reader)
            return true
        }
    }

    private struct SegmentKey: Hashable {
        var id: UInt64
        var path: String
    }

    /// How many readers are open.
    public var count: Int { readers.count }

    func reader(_ segment: SegmentInfo) -> SegmentReader? {
        if let position = readers.firstIndex(where: { $0.segmentID == segment.id && $0.path == segment.path }) {
            let reader = readers.remove(at: position)
            // An unsealed segment grows (and gets sealed) between lookups; a reader that cannot
            // tell is closed and the segment opened afresh.
            if reader.isSealed || (try? reader.refresh()) != nil {
                readers.append(reader)
                return reader
            }
            forget(reader)
        }
        guard let reader = try? SegmentReader(path: segment.path, segmentID: segment.id) else { return nil }
        readers.append(reader)
        if readers.count > capacity { forget(readers.removeFirst()) }
        return reader
    }

    /// Counts what a reader leaving decompressed (it closes its file once released).
    private func forget(_ reader: SegmentReader) {
        closedReadersFrames += reader.sealedFramesDecompressed
    }
}

/// Not Sendable: it holds its readers' buffers, used by one thread.
@available(*, unavailable)
extension OpenSegments: Sendable {}
