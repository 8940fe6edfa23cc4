/// The segment being appended to. Owned by the writer thread (and by recovery before that).
final class ActiveSegment {
    let id: UInt64
    let path: String
    let header: SegmentHeader
    private let file: SystemFile
    /// Where the next frame goes.
    private(set) var size: Int64
    private(set) var frames: [SegmentFooter.FrameEntry]
    private var keyHashes: [KeySpace: Set<UInt64>] = [:]
    private(set) var recordCount: UInt64
    private(set) var uncompressedBytes: UInt64
    private(set) var minReceiveTime: Int64 = .max
    private(set) var maxReceiveTime: Int64 = .min

    private init(id: UInt64, path: String, header: SegmentHeader, file: SystemFile, size: Int64,
                 frames: [SegmentFooter.FrameEntry]) {
        self.id = id
        self.path = path
        self.header = header
        self.file = file
        self.size = size
        self.frames = frames
        recordCount = frames.reduce(0) { $0 + UInt64($1.recordCount) }
        uncompressedBytes = frames.reduce(0) { $0 + UInt64($1.uncompressedLength) }
        for frame in frames {
            minReceiveTime = min(minReceiveTime, frame.minReceiveTime)
            maxReceiveTime = max(maxReceiveTime, frame.maxReceiveTime)
        }
    }

    deinit {
        file.close()
    }

    /// Creates a new segment file: header written and synced, directory entry synced.
    static func create(directory: String, id: UInt64, kind: SegmentKind, firstSequence: UInt64, createdAt: Int64,
                       coveredEnd: UInt64 = 0, faults: FaultInjector?) throws(StorageError) -> ActiveSegment {
        let path = directory + "/" + SegmentNaming.fileName(id)
        let header = SegmentHeader(version: SegmentHeader.version(for: kind), kind: kind, segmentID: id, createdAt: createdAt,
                                   firstSequence: firstSequence, coveredEnd: coveredEnd)
        let file = try SystemFile.open(path, .createExclusive, faults: faults)
        do {
            try header.encoded().withBytes { (raw) throws(StorageError) in try file.write(raw, at: 0) }
            try file.sync()
            try FileSystem.syncDirectory(directory, faults: faults)
        } catch {
            file.close()
            try? FileSystem.remove(path)
            throw error
        }
        return ActiveSegment(id: id, path: path, header: header, file: file, size: Int64(SegmentHeader.size), frames: [])
    }

    /// Reopens a recovered, unsealed segment for appending after its last valid frame. `keys` are the
    /// keys already in it (recovery read them), for the footer's key summary.
    static func reopen(path: String, header: SegmentHeader, validEnd: Int64, frames: [SegmentFooter.FrameEntry],
                       keys: [KeySpace: Set<UInt64>], faults: FaultInjector?) throws(StorageError) -> ActiveSegment {
        let file = try SystemFile.open(path, .readWrite, faults: faults)
        let segment = ActiveSegment(id: header.segmentID, path: path, header: header, file: file, size: validEnd, frames: frames)
        segment.keyHashes = keys
        return segment
    }

    var nextSequence: UInt64 {
        (frames.last.map { $0.firstSequence + UInt64($0.recordCount) }) ?? header.firstSequence
    }

    /// Appends framed bytes at the end. On failure the file is cut back to where it was, so a failed
    /// write never leaves half a frame behind for a later frame to follow.
    /// Starts writing back what was appended from `offset` on (see SystemFile.startWriteback).
    func startWriteback(from offset: Int64) {
        file.startWriteback(at: offset, length: size - offset)
    }

    /// Waits until what was appended in `range` is written back.
    func finishWriteback(_ range: Range<Int64>) {
        file.finishWriteback(at: range.lowerBound, length: range.upperBound - range.lowerBound)
    }

    func append(_ bytes: [UInt8], frames newFrames: [SegmentFooter.FrameEntry]) throws(StorageError) {
        do {
            try bytes.withBytes { (raw) throws(StorageError) in try file.write(raw, at: size) }
        } catch {
            try? file.truncate(to: size)
            throw error
        }
        size += Int64(bytes.count)
        frames.append(contentsOf: newFrames)
        for frame in newFrames {
            recordCount += UInt64(frame.recordCount)
            uncompressedBytes += UInt64(frame.uncompressedLength)
            minReceiveTime = min(minReceiveTime, frame.minReceiveTime)
            maxReceiveTime = max(maxReceiveTime, frame.maxReceiveTime)
        }
    }

    func noteKey(_ space: KeySpace, hash: UInt64) {
        keyHashes[space, default: []].insert(hash)
    }

    func sync() throws(StorageError) {
        try file.sync()
    }

    /// Writes the footer and trailer and syncs: the segment is immutable from here on.
    func seal() throws(StorageError) {
        let summaries = keyHashes.keys.sorted().map { space in
            let hashes = keyHashes[space] ?? []
            var bloom = BloomFilter(expectedKeys: hashes.count)
            for hash in hashes { bloom.insert(hash: hash) }
            return SegmentFooter.KeySummary(space: space, distinctKeys: UInt32(hashes.count), bloom: bloom)
        }
        let footer = SegmentFooter(frames: frames, keySummaries: summaries)
        let bytes = footer.encoded(at: size)
        do {
            try bytes.withBytes { (raw) throws(StorageError) in try file.write(raw, at: size) }
            try file.sync()
        } catch {
            try? file.truncate(to: size)
            throw error
        }
        size += Int64(bytes.count)
    }

    func catalogEntry(sealed: Bool) -> CatalogEntry {
        CatalogEntry(segmentID: id, kind: header.kind, sealed: sealed, firstSequence: header.firstSequence,
                     nextSequence: nextSequence, recordCount: recordCount, frameCount: UInt32(frames.count), fileBytes: size,
                     uncompressedBytes: uncompressedBytes, createdAt: header.createdAt,
                     minReceiveTime: recordCount > 0 ? minReceiveTime : 0,
                     maxReceiveTime: recordCount > 0 ? maxReceiveTime : 0)
    }

    var info: SegmentInfo {
        SegmentInfo(id: id, path: path, firstSequence: header.firstSequence, sealed: false)
    }
}
