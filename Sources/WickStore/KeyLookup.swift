/// Finds the records that carry a key: the index's frame locations, plus a scan of the frames the
/// index has not reached yet (its high-water mark trails the log by about one group commit), so a
/// lookup never misses a durable record. Each frame read is checked against the key, because long
/// keys share index entries and a retired segment's entries may still be in flight.
struct KeyLookup {
    let index: IndexStore?
    /// The event log's segments, oldest first.
    let segments: [SegmentInfo]
    /// Compacted segments (ids from `CompactedSegments.firstID`), which only the index points into.
    var compacted: [SegmentInfo] = []
    var highWaterMark: UInt64
    /// The writer's own list of the active segment's frames, when looking up in its process.
    var liveFrames: ((UInt64, UInt64) -> [SegmentFooter.FrameEntry]?)? = nil
    /// Where the indexed part of an unsealed segment ends (from the index's catalog, written with the
    /// high-water mark): the scan for unindexed records starts there instead of walking the segment.
    var indexedEnd: (segment: UInt64, offset: Int64)? = nil
    /// Opens (or lends) a segment's reader; a long-lived reader keeps its sealed segments open.
    var open: (SegmentInfo) -> SegmentReader? = { try? SegmentReader(path: $0.path, segmentID: $0.id) }

    func locations(for key: IndexKey) throws(StorageError) -> [FrameLocation] {
        var locations = Set(try index?.locations(for: key) ?? [])
        let existing = Set(segments.map(\.id) + compacted.map(\.id))
        locations = locations.filter { existing.contains($0.segment) }
        let from = index == nil ? 0 : highWaterMark
        try scanUnindexed(from: from) { location, record in
            if record.hasKey(key) { locations.insert(location) }
        }
        return locations.sorted()
    }

    /// Records carrying `key`, in sequence order; nil when a location pointed into a segment that
    /// is gone (released after a compaction since the index was read): look again.
    func records(for key: IndexKey) throws(StorageError) -> [StoredRecord]? {
        var result: [StoredRecord] = []
        var readers: [UInt64: SegmentReader] = [:]
        let byID = Dictionary(uniqueKeysWithValues: (segments + compacted).map { ($0.id, $0) })
        for location in try locations(for: key) {
            guard let segment = byID[location.segment] else { continue }
            let reader: SegmentReader
            if let cached = readers[location.segment] {
                reader = cached
            } else {
                guard let opened = open(segment) else {
                    if !FileSystem.exists(segment.path) { return nil }
                    continue
                }
                readers[location.segment] = opened
                reader = opened
            }
            do {
                _ = try reader.readFrame(at: location.offset) { sequence, record in
                    if record.hasKey(key) { result.append(record.stored(sequence: sequence)) }
                }
            } catch let error as StorageError where error.code == .checksumMismatch || error.code == .corruptSegment {
                continue
            } catch let error as StorageError {
                throw error
            } catch {
                throw StorageError(code: .ioError, message: "\(error)")
            }
        }
        return result.sorted { $0.sequence < $1.sequence }
    }

    /// The records of the frame at `location`, checked.
    static func records(at location: FrameLocation, in segments: [SegmentInfo]) throws(StorageError) -> [StoredRecord] {
        guard let segment = segments.first(where: { $0.id == location.segment }) else {
            throw StorageError(code: .notFound, message: "no segment \(location.segment)")
        }
        let reader = try SegmentReader(path: segment.path, segmentID: segment.id)
        var result: [StoredRecord] = []
        do {
            _ = try reader.readFrame(at: location.offset) { sequence, record in result.append(record.stored(sequence: sequence)) }
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(code: .ioError, message: "\(error)")
        }
        return result
    }

    private func scanUnindexed(from sequence: UInt64, _ body: (FrameLocation, RecordView) -> Void) throws(StorageError) {
        for (position, segment) in segments.enumerated() {
            if position + 1 < segments.count, segments[position + 1].firstSequence <= sequence { continue }
            guard let reader = open(segment) else { continue }
            let frames: [SegmentFooter.FrameEntry]
            if let live = liveFrames?(segment.id, sequence) {
                frames = live
            } else if let footer = reader.footer {
                frames = footer.frames
            } else if let end = indexedEnd, end.segment == segment.id, let tail = try reader.frames(from: end.offset) {
                frames = tail
            } else {
                frames = try reader.scan(expectedFirstSequence: segment.firstSequence).frames
            }
            for frame in frames where frame.firstSequence + UInt64(frame.recordCount) > sequence {
                let location = FrameLocation(segment: segment.id, offset: frame.offset)
                _ = try? reader.readFrame(at: frame.offset) { _, record in body(location, record) }
            }
        }
    }
}

extension RecordView {
    func hasKey(_ key: IndexKey) -> Bool {
        var found = false
        key.bytes.withUnsafeBytes { wanted in
            forEachKey { space, bytes in
                if !found, space == key.space, bytes.count == wanted.count, compareBytes(bytes, wanted) == 0 { found = true }
            }
        }
        return found
    }
}
