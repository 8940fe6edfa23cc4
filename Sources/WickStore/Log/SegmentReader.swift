/// Reads one segment file: its header, its footer when sealed, and its frames, checking every
/// checksum. Used by recovery, verification, tailing readers and lookups. Never trusts a byte: any
/// length or offset it reads is bounds-checked against the file before use.
final class SegmentReader {
    let path: String
    let segmentID: UInt64
    private let file: SystemFile
    private(set) var fileSize: Int64
    /// nil when the header is damaged (the frames after it can still be read).
    let header: SegmentHeader?
    let headerError: SegmentHeader.DecodeError?
    /// nil for an unsealed segment, or a sealed one whose footer is damaged.
    private(set) var footer: SegmentFooter?
    /// Where the footer starts, when sealed (frames end there).
    private(set) var footerOffset: Int64?
    /// True when a trailer is present but the footer it points at does not decode.
    private(set) var footerDamaged = false

    private let decompressor = ZstdDecompressor()
    /// Reused across frames: reading a segment allocates per segment, not per frame.
    private var frameBuffer: [UInt8] = []
    private var bodyBuffer: [UInt8] = []
    /// A split frame's body before it is put back together.
    private var splitBuffer: [UInt8] = []
    /// A type-4 frame's word-coded streams, decoded.
    private var decodedStreams: [UInt8] = []
    /// The frame of a sealed segment whose body is in `bodyBuffer`: read again at once, it is not
    /// decompressed again (a sealed segment's frames never change).
    private var decoded: (offset: Int64, header: FrameHeader, length: Int)?
    /// Frames of the sealed segment decompressed by `readFrame` (one found in `decoded` does not count).
    private(set) var sealedFramesDecompressed = 0

    init(path: String, segmentID: UInt64) throws(StorageError) {
        self.path = path
        self.segmentID = segmentID
        let file = try SystemFile.open(path, .readOnly)
        let size: Int64
        let headerBytes: [UInt8]
        do throws(StorageError) {
            size = try file.size()
            headerBytes = try file.read(count: SegmentHeader.size, at: 0)
        } catch {
            file.close()
            throw error
        }
        let decoded = headerBytes.withUnsafeBytes { SegmentHeader.decode($0) }
        if case .failure(.unsupportedVersion(let version)) = decoded {
            file.close()
            throw StorageError(code: .unsupportedVersion,
                               message: "\(path) has format version \(version); this build reads up to \(SegmentHeader.formatVersion)")
        }
        self.file = file
        fileSize = size
        switch decoded {
        case .success(let header):
            self.header = header
            headerError = nil
        case .failure(let error):
            header = nil
            headerError = error
        }
        // Every property is set: if this throws, deinit closes the file.
        try loadFooter()
    }

    deinit {
        file.close()
    }

    /// Re-reads the file size and footer (a tailing reader calls this as the writer appends or seals).
    func refresh() throws(StorageError) {
        fileSize = try file.size()
        if footer == nil { try loadFooter() }
    }

    private func loadFooter() throws(StorageError) {
        guard fileSize >= Int64(SegmentHeader.size + SegmentFooter.trailerSize) else { return }
        let trailer = try file.read(count: SegmentFooter.trailerSize, at: fileSize - Int64(SegmentFooter.trailerSize))
        guard let (offset, length) = trailer.withUnsafeBytes({ SegmentFooter.parseTrailer($0) }),
              offset + Int64(length) + Int64(SegmentFooter.trailerSize) == fileSize
        else {
            // A trailer magic with a bad checksum or bad offsets means a sealed segment got damaged.
            footerDamaged = trailer.suffix(8).elementsEqual(SegmentFooter.trailerMagic)
            return
        }
        let bytes = try file.read(count: length, at: offset)
        if let footer = bytes.withUnsafeBytes({ SegmentFooter.decode($0) }) {
            self.footer = footer
            footerOffset = offset
            footerDamaged = false
        } else {
            footerDamaged = true
        }
    }

    var isSealed: Bool { footer != nil }

    /// Where frames may end: the footer's start when sealed, else the file's end.
    var framesEnd: Int64 { footerOffset ?? fileSize }

    // MARK: - Frames

    enum FrameResult {
        case valid(FrameHeader)
        /// Not a frame here, or a frame whose checksum fails; `header` is what parsed, if anything.
        case damaged(FrameHeader?)
        /// The frame runs past `limit` (a torn tail, or a frame still being written).
        case incomplete(FrameHeader?)
    }

    /// Reads and checks the frame at `offset` (ending no later than `limit`); on `.valid` the
    /// compressed payload is in `payload` (whose storage is reused from call to call).
    func checkFrame(at offset: Int64, limit: Int64, payload: inout [UInt8]) throws(StorageError) -> FrameResult {
        guard offset + Int64(FrameHeader.size) <= limit else { return .incomplete(nil) }
        var headerBytes = [UInt8](repeating: 0, count: FrameHeader.size)
        let got = try headerBytes.withMutableBytes { (raw) throws(StorageError) -> Int in try file.read(into: raw, at: offset) }
        guard got == FrameHeader.size else { return .incomplete(nil) }
        guard let header = headerBytes.withUnsafeBytes({ FrameHeader.parse($0) }) else { return .damaged(nil) }
        guard offset + Int64(header.frameLength) <= limit else { return .incomplete(header) }
        let count = Int(header.payloadLength)
        if payload.count != count {
            if payload.capacity >= count {
                payload.removeAll(keepingCapacity: true)
                payload.append(contentsOf: repeatElement(0, count: count))
            } else {
                payload = [UInt8](repeating: 0, count: count)
            }
        }
        let read = try payload.withMutableBytes { (raw) throws(StorageError) -> Int in
            try file.read(into: raw, at: offset + Int64(FrameHeader.size))
        }
        guard read == count else { return .incomplete(header) }
        let ok = headerBytes.withUnsafeBytes { headerRaw in
            payload.withUnsafeBytes { FrameHeader.verify(header, headerBytes: headerRaw, payload: $0) }
        }
        return ok ? .valid(header) : .damaged(header)
    }

    /// Decompresses a checked frame's payload into the start of `body` (grown when too small), a
    /// split frame put back together; the body's length.
    func decompress(_ header: FrameHeader, payload: [UInt8], into body: inout [UInt8]) throws(StorageError) -> Int {
        let count = Int(header.uncompressedLength)
        let split = FrameHeader.isSplit(header.type)
        if body.count < count { body = [UInt8](repeating: 0, count: max(count, FrameHeader.targetUncompressedBytes + 4096)) }
        if split && splitBuffer.count < count { splitBuffer = [UInt8](repeating: 0, count: count) }
        let ok = payload.withUnsafeBytes { source in
            if split {
                return splitBuffer.withUnsafeMutableBytes {
                    decompressor.decompress(source, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<count]))
                }
            }
            return body.withUnsafeMutableBytes {
                decompressor.decompress(source, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<count]))
            }
        }
        guard ok else {
            throw StorageError(code: .corruptSegment, message: "frame at \(path) does not decompress to its stated length")
        }
        guard split else { return count }
        let length = splitBuffer.withUnsafeBytes { parts in
            FrameHeader.unsplit(UnsafeRawBufferPointer(rebasing: parts[0..<count]), type: header.type, into: &body,
                                decoded: &decodedStreams)
        }
        guard let length else {
            throw StorageError(code: .corruptSegment, message: "split frame at \(path) does not account for its parts")
        }
        return length
    }

    /// Reads, checks and decompresses the frame at `offset`; calls `body` with each record and its sequence number.
    func readFrame(at offset: Int64, _ body: (UInt64, RecordView) throws -> Void) throws -> FrameHeader {
        let header: FrameHeader
        let length: Int
        if let decoded, decoded.offset == offset, isSealed {
            (header, length) = (decoded.header, decoded.length)
        } else {
            decoded = nil
            switch try checkFrame(at: offset, limit: framesEnd, payload: &frameBuffer) {
            case .valid(let valid):
                header = valid
                length = try decompress(header, payload: frameBuffer, into: &bodyBuffer)
                if isSealed {
                    sealedFramesDecompressed += 1
                    decoded = (offset, header, length)
                }
            case .damaged, .incomplete:
                throw StorageError(code: .checksumMismatch, message: "frame at \(path)@\(offset) is damaged")
            }
        }
        do {
            try bodyBuffer.withUnsafeBytes { raw in
                var iterator = try RecordIterator(UnsafeRawBufferPointer(rebasing: raw[0..<length]))
                var sequence = header.firstSequence
                while let record = try iterator.next() {
                    try body(sequence, record)
                    sequence += 1
                }
                guard sequence == header.firstSequence + UInt64(header.recordCount) else {
                    throw StorageError(code: .corruptSegment, message: "frame record count does not match its records")
                }
            }
        } catch {
            // A body that does not parse is not kept for the next read (nor is one `body` threw in).
            decoded = nil
            throw error
        }
        return header
    }

    // MARK: - Scanning

    /// What a frame-by-frame walk of a segment found.
    struct Scan {
        var frames: [SegmentFooter.FrameEntry] = []
        /// Byte ranges that are not valid frames, with the records they cost where that is known.
        var damage: [Damage] = []
        /// End of the last valid frame (where an unsealed segment's next frame goes).
        var validEnd: Int64 = Int64(SegmentHeader.size)

        struct Damage: Equatable, Sendable {
            var offset: Int64
            var length: Int64
            /// Frames that started inside the damaged range (at least one when any bytes are there).
            var frames: Int
            /// Records known lost (from sequence gaps or parsed headers), nil when it cannot be known.
            var records: UInt64?
            /// True for damage at the end of the data (a torn tail).
            var atTail: Bool
        }
    }

    /// Walks the frames using the footer's index when sealed, otherwise by scanning and
    /// resynchronising on the next valid frame after any damage. `nextSegmentFirstSequence` lets a
    /// walk that found damage at its tail count the records lost there.
    func scan(expectedFirstSequence: UInt64? = nil, nextSegmentFirstSequence: UInt64? = nil) throws(StorageError) -> Scan {
        if let footer {
            return try scanWithFooter(footer)
        }
        return try scanWithoutFooter(expected: expectedFirstSequence ?? header?.firstSequence,
                                     nextFirst: nextSegmentFirstSequence)
    }

    /// The valid frames of an unsealed segment from `offset` on, when a frame starts exactly there
    /// (or the frames end there); nil otherwise, so that the caller walks the whole segment instead.
    /// Lookups use it to read only the tail the index has not reached.
    func frames(from offset: Int64) throws(StorageError) -> [SegmentFooter.FrameEntry]? {
        guard footer == nil, offset >= Int64(SegmentHeader.size), offset <= framesEnd else { return nil }
        let scan = try scanWithoutFooter(expected: nil, nextFirst: nil, from: offset)
        if let first = scan.damage.first, first.offset == offset { return nil }
        return scan.frames
    }

    private func scanWithFooter(_ footer: SegmentFooter) throws(StorageError) -> Scan {
        var scan = Scan()
        var payload: [UInt8] = []
        let limit = framesEnd
        for entry in footer.frames {
            let result = try checkFrame(at: entry.offset, limit: limit, payload: &payload)
            if case .valid(let header) = result, header.firstSequence == entry.firstSequence,
               header.recordCount == entry.recordCount {
                scan.frames.append(entry)
                scan.validEnd = max(scan.validEnd, entry.offset + entry.frameLength)
            } else {
                scan.damage.append(Scan.Damage(offset: entry.offset, length: entry.frameLength, frames: 1,
                                               records: UInt64(entry.recordCount), atTail: false))
            }
        }
        return scan
    }

    private func scanWithoutFooter(expected: UInt64?, nextFirst: UInt64?,
                                   from start: Int64 = Int64(SegmentHeader.size)) throws(StorageError) -> Scan {
        var scan = Scan()
        var payload: [UInt8] = []
        var offset = start
        var expectedSequence = expected
        let limit = footerDamaged ? fileSize : framesEnd
        while offset < limit {
            let result = try checkFrame(at: offset, limit: limit, payload: &payload)
            if case .valid(let header) = result {
                scan.frames.append(entry(for: header, at: offset))
                offset += Int64(header.frameLength)
                scan.validEnd = offset
                expectedSequence = header.firstSequence + UInt64(header.recordCount)
                continue
            }
            // Damage: look for the next frame that checks out, and count what lies between.
            let next = try resynchronise(after: offset, limit: limit, payload: &payload)
            let end = next?.offset ?? limit
            var damage = Scan.Damage(offset: offset, length: end - offset, frames: 0, records: nil, atTail: next == nil)
            let (starts, parsedRecords) = try frameStarts(in: offset..<end)
            // A damaged footer holds no frames; any other damaged bytes held at least a torn one.
            let footerOnly = footerDamaged && next == nil && starts == 0
            damage.frames = footerOnly ? 0 : max(1, starts)
            if let next, let expectedSequence, next.header.firstSequence >= expectedSequence {
                damage.records = next.header.firstSequence - expectedSequence
            } else if next == nil, let nextFirst, let expectedSequence, nextFirst >= expectedSequence {
                damage.records = nextFirst - expectedSequence
            } else if footerOnly {
                damage.records = 0
            } else if parsedRecords > 0 {
                damage.records = parsedRecords
            }
            scan.damage.append(damage)
            guard let next else { break }
            offset = next.offset
        }
        return scan
    }

    private func entry(for header: FrameHeader, at offset: Int64) -> SegmentFooter.FrameEntry {
        SegmentFooter.FrameEntry(offset: offset, firstSequence: header.firstSequence, recordCount: header.recordCount,
                                 payloadLength: header.payloadLength, uncompressedLength: header.uncompressedLength,
                                 minReceiveTime: header.minReceiveTime, maxReceiveTime: header.maxReceiveTime)
    }

    /// The next offset after `offset` where a frame with a valid checksum starts.
    func resynchronise(after offset: Int64, limit: Int64, payload: inout [UInt8]) throws(StorageError) -> (offset: Int64, header: FrameHeader)? {
        var position = offset + 1
        let chunkSize = 1 << 20
        while position + Int64(FrameHeader.size) <= limit {
            let count = Int(min(Int64(chunkSize), limit - position))
            let chunk = try file.read(count: count, at: position)
            var found: [Int] = []
            chunk.withUnsafeBytes { raw in
                var i = 0
                while i + 4 <= raw.count {
                    if raw[i] == 0x57, raw.loadLE(UInt32.self, at: i) == FrameHeader.magic { found.append(i) }
                    i += 1
                }
            }
            for index in found {
                let candidate = position + Int64(index)
                if case .valid(let header) = try checkFrame(at: candidate, limit: limit, payload: &payload) {
                    return (candidate, header)
                }
            }
            // Overlap by 3 bytes so a magic split across chunks is still seen.
            position += Int64(max(1, count - 3))
        }
        return nil
    }

    /// How many frame headers parse inside a damaged range, and the records they claim.
    private func frameStarts(in range: Range<Int64>) throws(StorageError) -> (Int, UInt64) {
        guard range.count >= 4 else { return (range.isEmpty ? 0 : 1, 0) }
        let bytes = try file.read(count: Int(min(Int64(range.count), 64 << 20)), at: range.lowerBound)
        var starts = 0
        var records: UInt64 = 0
        bytes.withUnsafeBytes { raw in
            var i = 0
            while i + 4 <= raw.count {
                if raw[i] == 0x57, raw.loadLE(UInt32.self, at: i) == FrameHeader.magic {
                    starts += 1
                    if i + FrameHeader.size <= raw.count,
                       let header = FrameHeader.parse(UnsafeRawBufferPointer(rebasing: raw[i..<(i + FrameHeader.size)])) {
                        records += UInt64(header.recordCount)
                    }
                }
                i += 1
            }
        }
        return (starts, records)
    }
}
