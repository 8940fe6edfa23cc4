/// Compacted segments (docs/format.md §7): sealed segment files in `compacted/`, each replacing a
/// contiguous range of raw sequence numbers. Their ids start at 2^63, so that an index location says
/// by its segment id alone which directory its file is in.
public enum CompactedSegments: Sendable {
    public static let firstID: UInt64 = 1 << 63

    public static func contains(_ id: UInt64) -> Bool { id >= firstID }

    /// The compacted segments on disk, oldest first. Reads each header (for the range it covers).
    static func list(in directory: DataDirectory) throws(StorageError) -> [CompactedSegment] {
        guard FileSystem.isDirectory(directory.compactedDirectory) else { return [] }
        return try SegmentNaming.segmentIDs(in: directory.compactedDirectory).filter(contains).compactMap { segment($0, in: directory) }
    }

    /// One compacted segment, from its header; nil when it cannot be read as one.
    static func segment(_ id: UInt64, in directory: DataDirectory) -> CompactedSegment? {
        let path = directory.compactedDirectory + "/" + SegmentNaming.fileName(id)
        guard let reader = try? SegmentReader(path: path, segmentID: id), let header = reader.header, header.kind == .compacted
        else { return nil }
        return CompactedSegment(info: SegmentInfo(id: id, path: path, firstSequence: header.firstSequence, sealed: true),
                                covered: header.firstSequence..<max(header.firstSequence, header.coveredEnd))
    }

    /// Just the file names: enough for lookups, which open a segment only when a location points into it.
    static func infos(in directory: DataDirectory) -> [SegmentInfo] {
        guard let ids = try? SegmentNaming.segmentIDs(in: directory.compactedDirectory) else { return [] }
        return ids.filter(contains).map {
            SegmentInfo(id: $0, path: directory.compactedDirectory + "/" + SegmentNaming.fileName($0), firstSequence: 0, sealed: true)
        }
    }

    /// Segments a compaction wrote but never published (it crashed first): never visible, so deleted.
    static func removeUnpublished(in directory: DataDirectory) throws(StorageError) -> Int {
        guard FileSystem.isDirectory(directory.compactedStagingDirectory) else { return 0 }
        var removed = 0
        for name in try FileSystem.list(directory.compactedStagingDirectory) {
            try FileSystem.remove(directory.compactedStagingDirectory + "/" + name)
            removed += 1
        }
        return removed
    }
}

/// A compacted segment on disk and the raw sequence numbers its records replace.
public struct CompactedSegment: Sendable, Hashable {
    public var info: SegmentInfo
    public var covered: Range<UInt64>
}

/// The steps of publishing a compaction, in order: a crash after any of them leaves either the raw
/// records or the compacted ones visible, never both and never neither (the crash test stops a
/// compaction after each).
public enum CompactionStep: String, Sendable, CaseIterable {
    /// The new segment is written (unsynced) in the staging directory.
    case written
    /// Footer written and the file synced.
    case synced
    /// Renamed into `compacted/`: from here on, start-up rolls it forward.
    case renamed
    /// `compacted/` synced: the rename is durable.
    case directorySynced
    /// The index points at the new records and no longer at the raw ones (one transaction).
    case indexed
}
