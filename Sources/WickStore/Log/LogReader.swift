/// Reads a log's records in sequence order, from any position: for tailing consumers (which pass
/// the log's durable sequence as the limit), exports, and read-back benchmarks. Keeps its place
/// between calls, so following the tail costs one frame read per new frame, not a rescan.
public final class LogReader {
    private let segments: () -> [SegmentInfo]
    private let liveFrames: ((UInt64, UInt64) -> [SegmentFooter.FrameEntry]?)?
    private var open: SegmentReader?
    /// Frames of the open segment, as far as they are known, and the next offset to scan from when
    /// the segment is unsealed.
    private var frames: [SegmentFooter.FrameEntry] = []
    private var scanOffset: Int64 = Int64(SegmentHeader.size)
    private var scratchPayload: [UInt8] = []
    /// Frames skipped because their checksum failed (each one's records are lost to this reader).
    public private(set) var damagedFrames = 0

    /// - Parameters:
    ///   - segments: the log's segments, oldest first (asked again on every read).
    ///   - liveFrames: for the writer's own process: the frames of the active segment that are
    ///     completely written, ending after a sequence number (nil for other segments). Without it
    ///     the reader walks frame headers on disk and stops at the first that does not check out.
    init(segments: @escaping () -> [SegmentInfo], liveFrames: ((UInt64, UInt64) -> [SegmentFooter.FrameEntry]?)?) {
        self.segments = segments
        self.liveFrames = liveFrames
    }

    /// A reader over a log directory on disk (for processes other than the writer).
    public convenience init(directory: String) {
        self.init(segments: { (try? LogDirectoryListing.segments(in: directory)) ?? [] }, liveFrames: nil)
    }

    /// Calls `body` for records with sequence numbers in `from..<until`, in order, up to
    /// `maxRecords`. Returns the sequence number to continue from. Records lost to damage or
    /// retention are skipped (the returned position moves past them).
    @discardableResult
    public func read(from: UInt64, until: UInt64 = .max, maxRecords: Int = .max,
                     _ body: (UInt64, RecordView) throws -> Void) throws -> UInt64 {
        var sequence = from
        var delivered = 0
        let list = segments()
        guard var position = list.lastIndex(where: { $0.firstSequence <= sequence }) ?? (list.isEmpty ? nil : 0) else {
            return sequence
        }
        while position < list.count && sequence < until && delivered < maxRecords {
            let info = list[position]
            let nextFirst = position + 1 < list.count ? list[position + 1].firstSequence : nil
            try select(info)
            guard let reader = open else { position += 1; continue }
            if info.firstSequence > sequence { sequence = info.firstSequence }
            try discoverFrames(reader: reader, info: info, from: sequence, sealed: info.sealed || nextFirst != nil)
            var index = firstFrame(containing: sequence)
            while index < frames.count && sequence < until && delivered < maxRecords {
                let frame = frames[index]
                let frameEnd = frame.firstSequence + UInt64(frame.recordCount)
                index += 1
                guard frame.firstSequence < until else { return sequence }
                if frameEnd <= sequence { continue }
                do {
                    _ = try reader.readFrame(at: frame.offset) { recordSequence, record in
                        guard recordSequence >= sequence, recordSequence < until, delivered < maxRecords else { return }
                        try body(recordSequence, record)
                        delivered += 1
                        sequence = recordSequence + 1
                    }
                } catch let error as StorageError where error.code == .checksumMismatch || error.code == .corruptSegment {
                    damagedFrames += 1
                }
                if delivered < maxRecords { sequence = max(sequence, min(frameEnd, until)) }
            }
            if let nextFirst, delivered < maxRecords, sequence < until {
                sequence = max(sequence, nextFirst)
                position += 1
            } else {
                break
            }
        }
        return sequence
    }

    /// The records of the frame that holds `sequence`, all of them, with the frame's first sequence
    /// number; nil when no readable frame holds it (retired, damaged, not written yet).
    public func frame(containing sequence: UInt64, withKeys: Bool = true) throws -> (first: UInt64, records: [StoredRecord])? {
        let list = segments()
        guard let position = list.lastIndex(where: { $0.firstSequence <= sequence }) else { return nil }
        let info = list[position]
        try select(info)
        guard let reader = open else { return nil }
        try discoverFrames(reader: reader, info: info, from: sequence, sealed: info.sealed || position + 1 < list.count)
        let index = firstFrame(containing: sequence)
        guard index < frames.count, frames[index].firstSequence <= sequence else { return nil }
        var records: [StoredRecord] = []
        records.reserveCapacity(Int(frames[index].recordCount))
        do {
            _ = try reader.readFrame(at: frames[index].offset) { recordSequence, record in
                records.append(withKeys ? record.stored(sequence: recordSequence)
                    : StoredRecord(sequence: recordSequence, kind: record.kind, receiveTime: record.receiveTime,
                                   project: record.projectString, keys: [], payload: Array(record.payload)))
            }
        } catch let error as StorageError where error.code == .checksumMismatch || error.code == .corruptSegment {
            damagedFrames += 1
            return nil
        }
        return (frames[index].firstSequence, records)
    }

    /// Closes the segment it holds open when the log no longer has it (compaction or retention
    /// deleted it): an idle reader would otherwise keep the deleted file's space from the disk.
    public func closeRetired() {
        guard let open, !segments().contains(where: { $0.id == open.segmentID }) else { return }
        self.open = nil
        frames = []
        scanOffset = Int64(SegmentHeader.size)
    }

    private func select(_ info: SegmentInfo) throws {
        if let open, open.segmentID == info.id { return }
        open = nil
        frames = []
        scanOffset = Int64(SegmentHeader.size)
        do {
            open = try SegmentReader(path: info.path, segmentID: info.id)
        } catch let error where error.code == .notFound {
            open = nil  // retired meanwhile
        }
    }

    /// Learns the frames of the open segment: from the footer when sealed, else by walking headers
    /// from where the last walk stopped.
    private func discoverFrames(reader: SegmentReader, info: SegmentInfo, from sequence: UInt64, sealed: Bool) throws {
        if !sealed, let live = liveFrames?(info.id, sequence) {
            frames = live
            try reader.refresh()
            return
        }
        try reader.refresh()
        if let footer = reader.footer {
            if frames.count != footer.frames.count { frames = footer.frames }
            return
        }
        if sealed && reader.footerDamaged {
            if frames.isEmpty { frames = try reader.scan().frames }
            return
        }
        while true {
            let result = try reader.checkFrame(at: scanOffset, limit: reader.framesEnd, payload: &scratchPayload)
            var header: FrameHeader
            switch result {
            case .valid(let valid):
                header = valid
            case .damaged, .incomplete:
                // Damage in the middle (a valid frame follows) is skipped; otherwise this is the end
                // of what has been written so far.
                guard let next = try reader.resynchronise(after: scanOffset, limit: reader.framesEnd, payload: &scratchPayload) else {
                    return
                }
                damagedFrames += 1
                scanOffset = next.offset
                header = next.header
            }
            frames.append(SegmentFooter.FrameEntry(
                offset: scanOffset, firstSequence: header.firstSequence, recordCount: header.recordCount,
                payloadLength: header.payloadLength, uncompressedLength: header.uncompressedLength,
                minReceiveTime: header.minReceiveTime, maxReceiveTime: header.maxReceiveTime))
            scanOffset += Int64(header.frameLength)
        }
    }

    private func firstFrame(containing sequence: UInt64) -> Int {
        var low = 0
        var high = frames.count
        while low < high {
            let mid = (low + high) / 2
            if frames[mid].firstSequence + UInt64(frames[mid].recordCount) <= sequence { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// A log directory's segments as seen from disk (for readers outside the writing process).
enum LogDirectoryListing {
    static func segments(in directory: String) throws(StorageError) -> [SegmentInfo] {
        var result: [SegmentInfo] = []
        let ids = try SegmentNaming.segmentIDs(in: directory)
        for (position, id) in ids.enumerated() {
            if let (info, _) = segment(id, in: directory, newest: position == ids.count - 1) { result.append(info) }
        }
        return result
    }

    /// One segment of the listing, with the reader that read it; nil when it cannot be opened.
    static func segment(_ id: UInt64, in directory: String, newest: Bool) -> (SegmentInfo, SegmentReader)? {
        let path = directory + "/" + SegmentNaming.fileName(id)
        guard let reader = try? SegmentReader(path: path, segmentID: id) else { return nil }
        let first = reader.header?.firstSequence ?? reader.footer?.frames.first?.firstSequence
            ?? (try? reader.scan().frames.first?.firstSequence) ?? nil ?? 1
        // A segment without a footer that is not the newest was sealed too (its footer is damaged).
        return (SegmentInfo(id: id, path: path, firstSequence: first, sealed: reader.isSealed || !newest), reader)
    }
}

/// Not Sendable: it borrows buffers (or holds file handles) owned by one thread.
@available(*, unavailable)
extension LogReader: Sendable {}
