import Logging

/// `wick reindex`: throws the index away and builds it again from the segments. A mutating command:
/// it takes the data directory's lock and refuses while a daemon holds it.
public enum Reindex: Sendable {
    public struct Result: Sendable {
        public var segments: Int
        public var framesIndexed: Int
        public var entries: Int
        public var highWaterMark: UInt64
    }

    public static func run(_ directory: DataDirectory, initialMapBytes: Int = 256 << 20) throws(StorageError) -> Result {
        guard directory.exists else {
            throw StorageError(code: .notFound, message: "no data directory at \(directory.root)")
        }
        guard let lock = try DirectoryLock.acquire(directory.lockPath) else {
            throw StorageError(code: .locked,
                               message: "\(directory.root) is in use by a running wick daemon; stop it first (the daemon rebuilds a missing or stale index itself at start-up)")
        }
        defer { lock.release() }
        let segments = try LogDirectoryListing.segments(in: directory.logDirectory)
        let cursors: [String: UInt64]
        let meta: [IndexStore.MetaKey: UInt64]
        var documents: [DocumentWrite] = []
        if let old = try? IndexStore(path: directory.indexPath, readOnly: true, initialMapSize: 0) {
            // Cursors and documents record what consumers have done; they survive the rebuild.
            cursors = (try? old.cursors()) ?? [:]
            documents = (try? old.allDocuments()) ?? []
            var kept: [IndexStore.MetaKey: UInt64] = [:]
            for key in [IndexStore.MetaKey.retiredBelow, .retentionLostRecords, .retentionDeletedSegments,
                        .recoveryTruncatedBytes, .recoveryDroppedFrames, .recoveryRuns] {
                if let value = try? old.meta(key) { kept[key] = value }
            }
            meta = kept
        } else {
            cursors = [:]
            meta = [:]
        }
        try FileSystem.remove(directory.indexPath)
        try FileSystem.remove(directory.indexPath + "-lock")
        let index = try IndexStore(path: directory.indexPath, readOnly: false, initialMapSize: initialMapBytes)
        var catalog: [CatalogEntry] = []
        for (position, segment) in segments.enumerated() {
            let reader = try SegmentReader(path: segment.path, segmentID: segment.id)
            let next = position + 1 < segments.count ? segments[position + 1].firstSequence : nil
            let frames = try reader.scan(expectedFirstSequence: segment.firstSequence, nextSegmentFirstSequence: next).frames
            catalog.append(CatalogEntry(
                segmentID: segment.id, kind: reader.header?.kind ?? .raw, sealed: reader.isSealed,
                firstSequence: segment.firstSequence,
                nextSequence: frames.last.map { $0.firstSequence + UInt64($0.recordCount) } ?? segment.firstSequence,
                recordCount: frames.reduce(0) { $0 + UInt64($1.recordCount) }, frameCount: UInt32(frames.count),
                fileBytes: reader.fileSize, uncompressedBytes: frames.reduce(0) { $0 + UInt64($1.uncompressedLength) },
                createdAt: reader.header?.createdAt ?? 0, minReceiveTime: frames.map(\.minReceiveTime).min() ?? 0,
                maxReceiveTime: frames.map(\.maxReceiveTime).max() ?? 0))
        }
        let end = catalog.last?.nextSequence ?? 1
        try index.environment.withWrite { (txn) throws(StorageError) in
            try index.setMeta(.formatVersion, UInt64(IndexStore.formatVersion), txn: txn)
            for entry in catalog { try index.putSegment(entry, txn: txn) }
            for (name, value) in cursors { try index.setCursor(name, value, txn: txn) }
            try index.applyDocuments(documents, txn: txn)
            for (key, value) in meta { try index.setMeta(key, value, txn: txn) }
        }
        let frames = try IndexCatchUp.run(index: index, segments: segments, from: 0, to: end)
        // Compacted segments replace raw records: applied in order, as start-up rolls them forward.
        _ = try DataStore.reconcileCompacted(index: index, directory: directory, rawSegments: segments,
                                             logger: Logger(label: "wick.reindex", factory: { _ in SwiftLogNoOpLogHandler() }))
        try index.environment.sync()
        return Result(segments: segments.count, framesIndexed: frames, entries: try index.entryCount(),
                      highWaterMark: try index.highWaterMark())
    }
}
