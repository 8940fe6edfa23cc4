import Logging

/// What start-up recovery found and did. Logged, counted, and kept in the index's meta.
public struct RecoveryReport: Sendable, Equatable {
    public var segments = 0
    /// Bytes cut from the end of the last segment (a torn or corrupt tail).
    public var truncatedBytes: Int64 = 0
    /// Frames (whole or partial) in the cut bytes, and the records they held where known.
    public var droppedFrames = 0
    public var droppedRecords: UInt64 = 0
    /// Segments that were never sealed (a crash between segments) and got their footer now.
    public var sealedOnRecovery = 0
    /// Damage found in the middle of segments; reads skip it, `wick verify` reports it.
    public var damagedRanges = 0
    public var removedRetiredFiles = 0

    public init() {}
}

/// The log as recovery leaves it: every segment known, the last one open for appends.
struct RecoveredLog {
    var active: ActiveSegment
    var segments: [SegmentInfo]
    var catalog: [CatalogEntry]
    var report: RecoveryReport
}

/// Brings a log directory to a state the writer can continue from, whatever it finds: a torn tail is
/// truncated at the last valid frame, a segment left unsealed by a crash is sealed, damage is
/// counted and logged. It never refuses to start and never needs a manual step.
enum LogRecovery {
    static func recover(directory: String, kind: SegmentKind, retiredBelow: UInt64, clock: ReceiveClock,
                        faults: FaultInjector?, logger: Logger) throws(StorageError) -> RecoveredLog {
        try FileSystem.createDirectories(directory)
        var report = RecoveryReport()
        var ids = try SegmentNaming.segmentIDs(in: directory)
        for id in ids where id < retiredBelow {
            // Retention committed the retirement but crashed before unlinking.
            try FileSystem.remove(directory + "/" + SegmentNaming.fileName(id))
            report.removedRetiredFiles += 1
        }
        if report.removedRetiredFiles > 0 {
            try FileSystem.syncDirectory(directory, faults: faults)
            ids.removeAll { $0 < retiredBelow }
        }

        var segments: [SegmentInfo] = []
        var catalog: [CatalogEntry] = []
        var nextSequence: UInt64 = 1
        var active: ActiveSegment? = nil

        for (position, id) in ids.enumerated() {
            let path = directory + "/" + SegmentNaming.fileName(id)
            let isLast = position == ids.count - 1
            let followingFirst: UInt64? = isLast ? nil : try firstSequence(of: directory + "/" + SegmentNaming.fileName(ids[position + 1]))
            let reader: SegmentReader
            do {
                reader = try SegmentReader(path: path, segmentID: id)
            } catch let error where error.code == .notFound {
                continue
            }
            report.segments += 1
            if let footer = reader.footer, let header = reader.header {
                // Sealed and intact enough to trust its footer.
                let scanFrames = footer.frames
                let entry = catalogEntry(id: id, kind: header.kind, header: header, frames: scanFrames,
                                         fileBytes: reader.fileSize, sealed: true)
                segments.append(SegmentInfo(id: id, path: path, firstSequence: header.firstSequence, sealed: true))
                catalog.append(entry)
                nextSequence = max(nextSequence, entry.nextSequence)
                continue
            }
            let scan = try reader.scan(expectedFirstSequence: reader.header?.firstSequence ?? nextSequence,
                                       nextSegmentFirstSequence: followingFirst)
            let firstSeq = reader.header?.firstSequence ?? scan.frames.first?.firstSequence ?? nextSequence
            let header = reader.header ?? SegmentHeader(kind: kind, segmentID: id, createdAt: clock.microseconds(),
                                                        firstSequence: firstSeq)

            if !isLast && reader.footerDamaged {
                // Sealed once, damaged since: immutable, read by scanning; verify reports it.
                report.damagedRanges += scan.damage.count
                logger.warning("segment.footer-damaged", metadata: ["segment.id": "\(id)"])
                let entry = catalogEntry(id: id, kind: header.kind, header: header, frames: scan.frames,
                                         fileBytes: reader.fileSize, sealed: true)
                segments.append(SegmentInfo(id: id, path: path, firstSequence: firstSeq, sealed: true))
                catalog.append(entry)
                nextSequence = max(nextSequence, entry.nextSequence)
                continue
            }

            // Unsealed: the tail of the log (or a segment a crash left unsealed). Keep every valid
            // frame, cut whatever follows the last one.
            report.damagedRanges += scan.damage.filter { !$0.atTail }.count
            if let tail = scan.damage.last, tail.atTail {
                report.truncatedBytes += reader.fileSize - scan.validEnd
                report.droppedFrames += tail.frames
                report.droppedRecords += tail.records ?? 0
                logger.warning("segment.tail-truncated", metadata: [
                    "segment.id": "\(id)", "bytes": "\(reader.fileSize - scan.validEnd)",
                    "frames": "\(tail.frames)", "records": "\(tail.records.map(String.init) ?? "unknown")",
                ])
            }
            if reader.header == nil && scan.frames.isEmpty {
                // Nothing usable: a segment whose creation was cut short.
                try FileSystem.remove(path)
                report.segments -= 1
                continue
            }
            let keys = try collectKeys(reader: reader, frames: scan.frames)
            let file = try SystemFile.open(path, .readWrite, faults: faults)
            try file.truncate(to: scan.validEnd)
            if reader.header == nil {
                try header.encoded().withBytes { (raw) throws(StorageError) in try file.write(raw, at: 0) }
            }
            try file.sync()
            file.close()
            let segment = try ActiveSegment.reopen(path: path, header: header, validEnd: scan.validEnd,
                                                    frames: scan.frames, keys: keys, faults: faults)
            if isLast {
                active = segment
                segments.append(SegmentInfo(id: id, path: path, firstSequence: firstSeq, sealed: false))
                catalog.append(segment.catalogEntry(sealed: false))
            } else {
                try segment.seal()
                report.sealedOnRecovery += 1
                segments.append(SegmentInfo(id: id, path: path, firstSequence: firstSeq, sealed: true))
                catalog.append(segment.catalogEntry(sealed: true))
            }
            nextSequence = max(nextSequence, segment.nextSequence)
        }

        if active == nil {
            let id = (ids.last ?? 0) + 1
            let segment = try ActiveSegment.create(directory: directory, id: id, kind: kind, firstSequence: nextSequence,
                                                    createdAt: clock.microseconds(), faults: faults)
            active = segment
            segments.append(segment.info)
            catalog.append(segment.catalogEntry(sealed: false))
        }
        // `active` is set on every path above.
        return RecoveredLog(active: active!, segments: segments, catalog: catalog, report: report)
    }

    private static func firstSequence(of path: String) throws(StorageError) -> UInt64? {
        guard let file = try? SystemFile.open(path, .readOnly) else { return nil }
        defer { file.close() }
        let bytes = try file.read(count: SegmentHeader.size, at: 0)
        guard case .success(let header) = bytes.withUnsafeBytes({ SegmentHeader.decode($0) }) else { return nil }
        return header.firstSequence
    }

    private static func catalogEntry(id: UInt64, kind: SegmentKind, header: SegmentHeader,
                                     frames: [SegmentFooter.FrameEntry], fileBytes: Int64, sealed: Bool) -> CatalogEntry {
        let records = frames.reduce(UInt64(0)) { $0 + UInt64($1.recordCount) }
        let firstSequence = header.firstSequence
        return CatalogEntry(segmentID: id, kind: kind, sealed: sealed, firstSequence: firstSequence,
                            nextSequence: frames.last.map { $0.firstSequence + UInt64($0.recordCount) } ?? firstSequence,
                            recordCount: records,
                            frameCount: UInt32(frames.count), fileBytes: fileBytes,
                            uncompressedBytes: frames.reduce(0) { $0 + UInt64($1.uncompressedLength) },
                            createdAt: header.createdAt,
                            minReceiveTime: frames.map(\.minReceiveTime).min() ?? 0,
                            maxReceiveTime: frames.map(\.maxReceiveTime).max() ?? 0)
    }

    /// Hashes of the keys in `frames`, for the footer the segment will get when sealed.
    private static func collectKeys(reader: SegmentReader, frames: [SegmentFooter.FrameEntry]) throws(StorageError) -> [KeySpace: Set<UInt64>] {
        var keys: [KeySpace: Set<UInt64>] = [:]
        for frame in frames {
            do {
                _ = try reader.readFrame(at: frame.offset) { _, record in
                    record.forEachKey { space, key in keys[space, default: []].insert(keyHash(key)) }
                }
            } catch let error as StorageError {
                throw error
            } catch {
                throw StorageError(code: .corruptSegment, message: "\(error)")
            }
        }
        return keys
    }
}
