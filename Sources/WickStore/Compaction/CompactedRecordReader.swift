/// Reads the compacted records of one key after another, for one compaction: what it merges late
/// events into. Each segment stays open and keeps its last frame decompressed, so a caller that
/// asks in location order reads each frame once, however many of its few hundred documents it
/// wants; asked one lookup at a time, a compaction merging late scores into thousands of traces
/// decompressed a 1 MiB frame for every trace. Owned by one thread.
public final class CompactedRecordReader {
    private let segments: [UInt64: SegmentInfo]
    private var readers: [UInt64: SegmentReader] = [:]

    init(segments: [SegmentInfo]) {
        self.segments = Dictionary(segments.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Frames decompressed so far.
    public var framesDecompressed: Int { readers.values.reduce(0) { $0 + $1.framesDecompressed } }

    /// The records at `locations` (from ``DataStore/compactedLocations(_:)``) that carry `key`.
    public func records(for key: IndexKey, at locations: [FrameLocation]) throws(StorageError) -> [StoredRecord] {
        var result: [StoredRecord] = []
        for location in locations {
            let reader = try self.reader(location.segment)
            do {
                _ = try reader.readFrame(at: location.offset) { sequence, record in
                    if record.hasKey(key) { result.append(record.stored(sequence: sequence)) }
                }
            } catch let error as StorageError {
                throw error
            } catch {
                throw StorageError(code: .ioError, message: "\(error)")
            }
        }
        return result
    }

    private func reader(_ id: UInt64) throws(StorageError) -> SegmentReader {
        if let reader = readers[id] { return reader }
        guard let segment = segments[id] else { throw StorageError(code: .notFound, message: "no segment \(id)") }
        let reader = try SegmentReader(path: segment.path, segmentID: segment.id)
        readers[id] = reader
        return reader
    }
}

/// Not Sendable: it holds its readers' buffers, used by one thread.
@available(*, unavailable)
extension CompactedRecordReader: Sendable {}
