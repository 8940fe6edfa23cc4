#if canImport(Glibc)
import Glibc
#endif

/// The 56-byte header in front of every frame's zstd payload (docs/format.md §2).
///
/// The CRC-32C at the end covers the header's first 52 bytes and then the payload, so any flipped
/// byte anywhere in the frame is caught.
struct FrameHeader: Equatable, Sendable {
    static let magic: UInt32 = 0x5246_4B57  // "WKFR" little-endian
    static let size = 56
    /// Records a frame may hold, uncompressed; one larger record gets a frame of its own.
    static let targetUncompressedBytes = 256 * 1024
    /// Sanity bound for readers: nothing valid is larger.
    static let maxUncompressedBytes = RecordBatch.maxRecordBytes + 4096
    static let typeZstdRecords: UInt8 = 1
    /// The same with parts of payloads kept apart from the rest, in one stream (compacted segments
    /// of format version 2; read, no longer written; docs/format.md §3).
    static let typeZstdSplitRecords: UInt8 = 2
    /// The same with the parts in up to `maxStreams` streams, each part tagged with its stream
    /// (compacted segments of format version 3; docs/format.md §3).
    static let typeZstdStreamRecords: UInt8 = 3
    /// Streams a type-3 frame may have.
    static let maxStreams = 8

    /// Whether frames of `type` keep parts of payloads apart (and must be put back together).
    static func isSplit(_ type: UInt8) -> Bool { type == typeZstdSplitRecords || type == typeZstdStreamRecords }

    var type: UInt8 = FrameHeader.typeZstdRecords
    var recordCount: UInt32
    var uncompressedLength: UInt32
    var payloadLength: UInt32
    var firstSequence: UInt64
    var minReceiveTime: Int64
    var maxReceiveTime: Int64
    var checksum: UInt32 = 0

    var frameLength: Int { Self.size + Int(payloadLength) }
    var lastSequence: UInt64 { firstSequence + UInt64(recordCount) - 1 }

    /// A split frame body (type 2 or 3) as the plain one (type 1) it stands for: the header table,
    /// then the payloads, each run put back at its zero byte. `out` holds at least `body.count`
    /// bytes. The plain body's length, or nil when the parts do not account for each other exactly.
    static func unsplit(_ body: UnsafeRawBufferPointer, type: UInt8, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard body.count >= 8, out.count >= body.count, let source = body.baseAddress, let base = out.baseAddress else { return nil }
        let headerLength = Int(body.loadLE(UInt32.self, at: 0))
        guard headerLength <= body.count - 8 else { return nil }
        let restLength = Int(body.loadLE(UInt32.self, at: 4 + headerLength))
        let restStart = 8 + headerLength
        guard restLength <= body.count - restStart else { return nil }
        let restEnd = restStart + restLength
        // Where each stream's next run starts and where the stream ends; which stream each run is in.
        var next: [Int] = []
        var ends: [Int] = []
        var tags = restEnd..<restEnd
        if type == typeZstdSplitRecords {
            next = [restEnd]
            ends = [body.count]
        } else {
            guard type == typeZstdStreamRecords, body.count - restEnd >= 5 else { return nil }
            let tagCount = Int(body.loadLE(UInt32.self, at: restEnd))
            guard tagCount <= body.count - restEnd - 5 else { return nil }
            tags = (restEnd + 4)..<(restEnd + 4 + tagCount)
            let streamCount = Int(body[tags.upperBound])
            var position = tags.upperBound + 1
            guard streamCount <= maxStreams, 4 * streamCount <= body.count - position else { return nil }
            var start = position + 4 * streamCount
            for _ in 0..<streamCount {
                let length = Int(body.loadLE(UInt32.self, at: position))
                position += 4
                guard length <= body.count - start else { return nil }
                next.append(start)
                ends.append(start + length)
                start += length
            }
            guard start == body.count else { return nil }
        }
        var position = 0
        func copy(_ from: Int, _ count: Int) {
            (base + position).copyMemory(from: source + from, byteCount: count)
            position += count
        }
        copy(0, 4 + headerLength)
        var rest = restStart
        var tag = tags.lowerBound
        while rest < restEnd {
            guard let zero = memchr(source + rest, 0, restEnd - rest) else {
                copy(rest, restEnd - rest)
                break
            }
            let upTo = UnsafeRawPointer(zero) - source
            copy(rest, upTo - rest)
            rest = upTo + 1
            var stream = 0
            if type == typeZstdStreamRecords {
                guard tag < tags.upperBound else { return nil }
                stream = Int(body[tag])
                tag += 1
                guard stream < next.count else { return nil }
            }
            let run = next[stream]
            guard run < ends[stream], let end = memchr(source + run, 0, ends[stream] - run) else { return nil }
            let runEnd = UnsafeRawPointer(end) - source
            copy(run, runEnd - run)
            next[stream] = runEnd + 1
        }
        guard tag == tags.upperBound, next == ends else { return nil }
        return position
    }

    /// Writes the header with its checksum over itself and `payload`.
    func write(into bytes: inout [UInt8], payload: UnsafeRawBufferPointer) {
        let start = bytes.count
        bytes.appendLE(Self.magic)
        bytes.append(type)
        bytes.append(0)
        bytes.appendLE(UInt16(Self.size))
        bytes.appendLE(recordCount)
        bytes.appendLE(uncompressedLength)
        bytes.appendLE(payloadLength)
        bytes.appendLE(UInt32(0))
        bytes.appendLE(firstSequence)
        bytes.appendLE(minReceiveTime)
        bytes.appendLE(maxReceiveTime)
        bytes.appendLE(UInt32(0))
        let crc = bytes.withUnsafeBytes { raw in
            CRC32C.checksum(payload, continuing: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[start..<start + 52])))
        }
        bytes.appendLE(crc)
    }

    /// Parses the header fields without checking the checksum (which needs the payload).
    static func parse(_ bytes: UnsafeRawBufferPointer) -> FrameHeader? {
        guard bytes.count >= size, bytes.loadLE(UInt32.self, at: 0) == magic,
              bytes[4] == typeZstdRecords || isSplit(bytes[4]), bytes.loadLE(UInt16.self, at: 6) == UInt16(size)
        else { return nil }
        let header = FrameHeader(
            type: bytes[4],
            recordCount: bytes.loadLE(UInt32.self, at: 8),
            uncompressedLength: bytes.loadLE(UInt32.self, at: 12),
            payloadLength: bytes.loadLE(UInt32.self, at: 16),
            firstSequence: bytes.loadLE(UInt64.self, at: 24),
            minReceiveTime: bytes.loadLE(Int64.self, at: 32),
            maxReceiveTime: bytes.loadLE(Int64.self, at: 40),
            checksum: bytes.loadLE(UInt32.self, at: 52)
        )
        guard header.recordCount > 0,
              Int(header.uncompressedLength) <= maxUncompressedBytes,
              Int(header.payloadLength) <= ZstdCompressor.bound(maxUncompressedBytes)
        else { return nil }
        return header
    }

    /// Checks the checksum of a parsed header against its header bytes and payload.
    static func verify(_ header: FrameHeader, headerBytes: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) -> Bool {
        let crc = CRC32C.checksum(payload, continuing: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: headerBytes[0..<52])))
        return crc == header.checksum
    }
}
