/// A few segment readers kept open from one lookup to the next by one thread. A reader of a
/// sealed segment keeps its last frame decompressed, so lookups that follow one another through
/// the same frame — late scores for traces compacted together, which evaluation jobs post in about
/// the order the traces came — decompress it once instead of once each. The least recently used
/// reader is closed past `capacity` (each holds a frame's buffers, about 2 MiB for a compacted one).
public final class OpenSegments {
    private let capacity: Int
    /// Most recently used last.
    private var readers: [SegmentReader] = []

    public init(capacity: Int = 8) {
        self.capacity = max(1, capacity)
    }

    /// Frames its readers, open or closed since, decompressed.
    public var framesDecompressed: Int { closedReadersFrames + readers.reduce(0) { $0 + $1.framesDecompressed } }
    private var closedReadersFrames = 0

    func reader(_ segment: SegmentInfo) -> SegmentReader? {
        if let position = readers.firstIndex(where: { $0.segmentID == segment.id && $0.path == segment.path }) {
            let reader = readers.remove(at: position)
            // An unsealed segment grows (and gets sealed) between lookups; a reader that cannot
            // tell is closed and the segment opened afresh.
            if reader.isSealed || (try? reader.refresh()) != nil {
                readers.append(reader)
                return reader
            }
            closedReadersFrames += reader.framesDecompressed
        }
        guard let reader = try? SegmentReader(path: segment.path, segmentID: segment.id) else { return nil }
        readers.append(reader)
        if readers.count > capacity { closedReadersFrames += readers.removeFirst().framesDecompressed }
        return reader
    }
}

/// Not Sendable: it holds its readers' buffers, used by one thread.
@available(*, unavailable)
extension OpenSegments: Sendable {}
