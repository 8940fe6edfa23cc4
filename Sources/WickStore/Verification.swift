/// What `wick verify` found: every frame of every segment read, checksummed, decompressed and
/// decoded; damage located and the records it cost counted.
public struct Verification: Sendable {
    public struct Segment: Sendable {
        public var log: String
        public var id: UInt64
        public var path: String
        public var sealed: Bool
        public var headerDamaged: Bool
        /// A trailer is there but the footer it points to does not check out.
        public var footerDamaged: Bool
        public var frames: Int
        public var records: UInt64
        public var damage: [Damage]
        /// Bytes after the last valid frame of the segment a running daemon is writing: not judged.
        public var unverifiedTailBytes: Int64

        public var isDamaged: Bool { headerDamaged || footerDamaged || !damage.isEmpty }
        /// Records lost to damage; nil when some damage has no knowable count.
        public var lostRecords: UInt64? {
            damage.reduce(Optional(UInt64(0))) { total, item in
                guard let total, let records = item.records else { return nil }
                return total + records
            }
        }
    }

    public struct Damage: Sendable, Equatable {
        public var offset: Int64
        public var length: Int64
        public var frames: Int
        public var records: UInt64?
        public var detail: String
    }

    public var segments: [Segment]
    public var isDamaged: Bool { segments.contains(where: \.isDamaged) }
    public var lostRecords: UInt64? {
        segments.reduce(Optional(UInt64(0))) { total, segment in
            guard let total, let lost = segment.lostRecords else { return nil }
            return total + lost
        }
    }

    public static func make(_ store: StoreReader) throws(StorageError) -> Verification {
        let running = store.directory.isLocked
        var segments: [Segment] = []
        for (name, directory) in [("events", store.directory.logDirectory), ("compacted", store.directory.compactedDirectory),
                                  ("dead-letter", store.directory.deadLetterDirectory)] {
            guard name != "compacted" || FileSystem.isDirectory(directory) else { continue }
            let infos = try LogDirectoryListing.segments(in: directory)
            for (position, info) in infos.enumerated() {
                let isLast = position == infos.count - 1
                // Compacted segments each number their records from the range they replace, with
                // fewer records than it: the next one's first number says nothing about losses.
                let next = isLast || name == "compacted" ? nil : infos[position + 1].firstSequence
                segments.append(try verify(info, log: name, nextFirstSequence: next,
                                           beingWritten: isLast && running && name != "compacted"))
            }
        }
        return Verification(segments: segments)
    }

    /// Checks one segment file.
    public static func verify(_ info: SegmentInfo, log: String, nextFirstSequence: UInt64?, beingWritten: Bool) throws(StorageError) -> Segment {
        let reader = try SegmentReader(path: info.path, segmentID: info.id)
        let scan = try reader.scan(expectedFirstSequence: reader.header?.firstSequence ?? info.firstSequence,
                                   nextSegmentFirstSequence: nextFirstSequence)
        var result = Segment(log: log, id: info.id, path: info.path, sealed: reader.isSealed,
                             headerDamaged: reader.header == nil, footerDamaged: reader.footerDamaged,
                             frames: scan.frames.count, records: 0, damage: [], unverifiedTailBytes: 0)
        for damage in scan.damage {
            if damage.atTail && beingWritten && !reader.isSealed {
                result.unverifiedTailBytes = damage.length
                continue
            }
            let detail = damage.frames == 0 ? "footer damaged" : damage.atTail ? "damaged tail" : "damaged frame"
            result.damage.append(Damage(offset: damage.offset, length: damage.length, frames: damage.frames,
                                        records: damage.records, detail: detail))
        }
        // Frames whose checksum holds must also decompress and decode to their stated records.
        for frame in scan.frames {
            var count: UInt64 = 0
            do {
                _ = try reader.readFrame(at: frame.offset) { _, _ in count += 1 }
                result.records += count
            } catch {
                result.frames -= 1
                result.damage.append(Damage(offset: frame.offset, length: frame.frameLength, frames: 1,
                                            records: UInt64(frame.recordCount), detail: "frame does not decode: \(error)"))
            }
        }
        if reader.isSealed, let footer = reader.footer, let end = reader.footerOffset {
            // The footer's frames must tile the file from the header to the footer.
            var expected = Int64(SegmentHeader.size)
            for frame in footer.frames {
                if frame.offset != expected { break }
                expected += frame.frameLength
            }
            if expected != end && result.damage.isEmpty {
                result.damage.append(Damage(offset: expected, length: end - expected, frames: 0, records: nil,
                                            detail: "bytes between frames that no frame accounts for"))
            }
        }
        return result
    }
}
