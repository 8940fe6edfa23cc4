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
    /// The same with streams that may be word-coded (`WordCodes`), each stream's coding stated
    /// (compacted segments of format version 4; docs/format.md §3).
    static let typeZstdCodedRecords: UInt8 = 4
    /// Streams a type-3 or type-4 frame may have.
    static let maxStreams = 8

    /// Whether frames of `type` keep parts of payloads apart (and must be put back together).
    static func isSplit(_ type: UInt8) -> Bool { type >= typeZstdSplitRecords && type <= typeZstdCodedRecords }

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

    /// A split frame body (type 2, 3 or 4) as the plain one (type 1) it stands for: the header table,
    /// then the payloads, each run put back at its zero byte. `out` is grown when it cannot hold the
    /// plain body; `decoded` holds word-coded streams decoded (type 4). The plain body's length, or
    /// nil when the parts do not account for each other exactly.
    static func unsplit(_ body: UnsafeRawBufferPointer, type: UInt8, into out: inout [UInt8], decoded: inout [UInt8]) -> Int? {
        guard body.count >= 8, let source = body.baseAddress else { return nil }
        let headerLength = Int(body.loadLE(UInt32.self, at: 0))
        guard headerLength <= body.count - 8 else { return nil }
        let restLength = Int(body.loadLE(UInt32.self, at: 4 + headerLength))
        let restStart = 8 + headerLength
        guard restLength <= body.count - restStart else { return nil }
        let restEnd = restStart + restLength
        // Each stream's bytes as stored and whether they are word-coded; which stream each run is in.
        var stored: [Range<Int>] = []
        var coded: [Bool] = []
        var tags = restEnd..<restEnd
        if type == typeZstdSplitRecords {
            stored = [restEnd..<body.count]
            coded = [false]
        } else {
            guard type == typeZstdStreamRecords || type == typeZstdCodedRecords, body.count - restEnd >= 5 else { return nil }
            let tagCount = Int(body.loadLE(UInt32.self, at: restEnd))
            guard tagCount <= body.count - restEnd - 5 else { return nil }
            tags = (restEnd + 4)..<(restEnd + 4 + tagCount)
            let streamCount = Int(body[tags.upperBound])
            var position = tags.upperBound + 1
            let codings = type == typeZstdCodedRecords ? streamCount : 0
            guard streamCount <= maxStreams, 4 * streamCount + codings <= body.count - position else { return nil }
            var start = position + 4 * streamCount + codings
            for stream in 0..<streamCount {
                let length = Int(body.loadLE(UInt32.self, at: position))
                position += 4
                guard length <= body.count - start else { return nil }
                stored.append(start..<(start + length))
                start += length
                let coding = codings == 0 ? 0 : body[tags.upperBound + 1 + 4 * streamCount + stream]
                guard coding <= 1 else { return nil }
                coded.append(coding == 1)
            }
            guard start == body.count else { return nil }
        }
        // Word-coded streams, decoded one after the other.
        var decodedRanges: [Range<Int>?] = []
        var decodedTotal = 0
        for (range, isCoded) in zip(stored, coded) {
            guard isCoded else {
                decodedRanges.append(nil)
                continue
            }
            guard let length = WordCodes.decodedLength(UnsafeRawBufferPointer(rebasing: body[range])),
                  length <= maxUncompressedBytes - decodedTotal else { return nil }
            decodedRanges.append(decodedTotal..<(decodedTotal + length))
            decodedTotal += length
        }
        if decoded.count < decodedTotal { decoded = [UInt8](repeating: 0, count: decodedTotal) }
        for (range, target) in zip(stored, decodedRanges) {
            guard let target else { continue }
            let ok = decoded.withUnsafeMutableBytes {
                WordCodes.decode(UnsafeRawBufferPointer(rebasing: body[range]), into: UnsafeMutableRawBufferPointer(rebasing: $0[target]))
            }
            guard ok else { return nil }
        }
        // The plain body holds the header table, the rest without its zero bytes and the streams' runs.
        let streamBytes = zip(stored, decodedRanges).reduce(0) { $0 + ($1.1?.count ?? $1.0.count) }
        let bound = 4 + headerLength + restLength + streamBytes
        guard bound <= 2 * maxUncompressedBytes else { return nil }
        if out.count < bound { out = [UInt8](repeating: 0, count: bound) }
        return decoded.withUnsafeBytes { decodedBytes in
            out.withUnsafeMutableBytes { out -> Int? in
                let base = out.baseAddress!
                // Each stream's bytes and where its next run starts.
                var streams: [UnsafeRawBufferPointer] = []
                for (range, target) in zip(stored, decodedRanges) {
                    streams.append(UnsafeRawBufferPointer(rebasing: target.map { decodedBytes[$0] } ?? body[range]))
                }
                var next = [Int](repeating: 0, count: streams.count)
                var position = 0
                func copy(_ from: UnsafeRawPointer, _ count: Int) {
                    (base + position).copyMemory(from: from, byteCount: count)
                    position += count
                }
                copy(source, 4 + headerLength)
                var rest = restStart
                var tag = tags.lowerBound
                while rest < restEnd {
                    guard let zero = memchr(source + rest, 0, restEnd - rest) else {
                        copy(source + rest, restEnd - rest)
                        break
                    }
                    let upTo = UnsafeRawPointer(zero) - source
                    copy(source + rest, upTo - rest)
                    rest = upTo + 1
                    var stream = 0
                    if type != typeZstdSplitRecords {
                        guard tag < tags.upperBound else { return nil }
                        stream = Int(body[tag])
                        tag += 1
                        guard stream < streams.count else { return nil }
                    }
                    let bytes = streams[stream]
                    let run = next[stream]
                    guard run < bytes.count, let streamBase = bytes.baseAddress,
                          let end = memchr(streamBase + run, 0, bytes.count - run) else { return nil }
                    let runEnd = UnsafeRawPointer(end) - streamBase
                    copy(streamBase + run, runEnd - run)
                    next[stream] = runEnd + 1
                }
                guard tag == tags.upperBound, zip(next, streams).allSatisfy({ $0 == $1.count }) else { return nil }
                return position
            }
        }
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
