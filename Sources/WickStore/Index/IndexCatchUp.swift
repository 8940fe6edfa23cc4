/// Brings the index up to the log: indexes every frame holding records at or above the index's
/// high-water mark. Used at start-up (after a crash the index trails by about one commit; when it
/// is missing, this is the full rebuild) and by `wick reindex`.
enum IndexCatchUp {
    /// Entries per LMDB transaction while catching up: large enough to amortise commits, small
    /// enough to bound memory.
    static let entriesPerTransaction = 200_000

    @discardableResult
    static func run(index: IndexStore, segments: [SegmentInfo], from highWaterMark: UInt64,
                    to nextSequence: UInt64) throws(StorageError) -> Int {
        guard highWaterMark < nextSequence else { return 0 }
        var work = IndexWork()
        var indexed = 0
        for (position, segment) in segments.enumerated() {
            if position + 1 < segments.count, segments[position + 1].firstSequence <= highWaterMark { continue }
            guard let reader = try? SegmentReader(path: segment.path, segmentID: segment.id) else { continue }
            let scan = try reader.scan(expectedFirstSequence: segment.firstSequence,
                                       nextSegmentFirstSequence: position + 1 < segments.count ? segments[position + 1].firstSequence : nil)
            for frame in scan.frames where frame.firstSequence + UInt64(frame.recordCount) > highWaterMark {
                let location = FrameLocation(segment: segment.id, offset: frame.offset)
                do {
                    _ = try reader.readFrame(at: frame.offset) { _, record in
                        record.forEachKey { space, key in work.add(space: space, key: key, location: location) }
                    }
                } catch {
                    continue  // a damaged frame has nothing to index; verify reports it
                }
                indexed += 1
                if work.entries.count >= entriesPerTransaction {
                    try flush(&work, index: index, highWaterMark: nil)
                }
            }
        }
        try flush(&work, index: index, highWaterMark: nextSequence)
        return indexed
    }

    private static func flush(_ work: inout IndexWork, index: IndexStore, highWaterMark: UInt64?) throws(StorageError) {
        work.sortAndDeduplicate()
        if let highWaterMark { work.highWaterMark = highWaterMark }
        let batch = work
        try index.environment.withWrite { (txn) throws(StorageError) in try index.apply(batch, txn: txn) }
        work = IndexWork()
    }
}
