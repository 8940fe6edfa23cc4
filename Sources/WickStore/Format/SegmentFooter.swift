/// The footer a segment gets when it is sealed (docs/format.md §4): a frame index, the segment's
/// record count and receive-time range, and a key summary per key space. Readers find it through the
/// fixed 24-byte trailer at the very end of the file, so they seek without scanning.
struct SegmentFooter: Equatable, Sendable {
    static let magic: UInt32 = 0x5446_4B57  // "WKFT"
    static let trailerMagic: [UInt8] = Array("WKSEALED".utf8)
    static let trailerSize = 24
    static let version: UInt16 = 1

    struct FrameEntry: Equatable, Sendable {
        var offset: Int64
        var firstSequence: UInt64
        var recordCount: UInt32
        var payloadLength: UInt32
        var uncompressedLength: UInt32
        var minReceiveTime: Int64
        var maxReceiveTime: Int64

        var frameLength: Int64 { Int64(FrameHeader.size) + Int64(payloadLength) }
    }

    struct KeySummary: Equatable, Sendable {
        var space: KeySpace
        var distinctKeys: UInt32
        var bloom: BloomFilter
    }

    var frames: [FrameEntry]
    var keySummaries: [KeySummary]

    var recordCount: UInt64 { frames.reduce(0) { $0 + UInt64($1.recordCount) } }
    var uncompressedBytes: UInt64 { frames.reduce(0) { $0 + UInt64($1.uncompressedLength) } }
    var minReceiveTime: Int64? { frames.map(\.minReceiveTime).min() }
    var maxReceiveTime: Int64? { frames.map(\.maxReceiveTime).max() }

    /// Footer bytes followed by the trailer; `offset` is where the footer will start in the file.
    func encoded(at offset: Int64) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(64 + frames.count * 44)
        body.appendLE(UInt32(frames.count))
        for frame in frames {
            body.appendLE(frame.offset)
            body.appendLE(frame.firstSequence)
            body.appendLE(frame.recordCount)
            body.appendLE(frame.payloadLength)
            body.appendLE(frame.uncompressedLength)
            body.appendLE(frame.minReceiveTime)
            body.appendLE(frame.maxReceiveTime)
        }
        body.appendLE(UInt32(keySummaries.count))
        for summary in keySummaries {
            body.append(summary.space.rawValue)
            body.append(summary.bloom.probes)
            body.appendLE(UInt16(0))
            body.appendLE(summary.distinctKeys)
            body.appendLE(UInt32(summary.bloom.bits.count))
            body.append(contentsOf: summary.bloom.bits)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(body.count + 40)
        bytes.appendLE(Self.magic)
        bytes.appendLE(Self.version)
        bytes.appendLE(UInt16(0))
        bytes.appendLE(UInt32(body.count))
        bytes.append(contentsOf: body)
        bytes.appendLE(CRC32C.checksum(bytes))
        let footerLength = bytes.count
        var trailer: [UInt8] = []
        trailer.appendLE(offset)
        trailer.appendLE(UInt32(footerLength))
        trailer.appendLE(CRC32C.checksum(trailer))
        trailer.append(contentsOf: Self.trailerMagic)
        bytes.append(contentsOf: trailer)
        return bytes
    }

    /// Reads the trailer (the last 24 bytes of a file): where the footer starts and how long it is.
    static func parseTrailer(_ bytes: UnsafeRawBufferPointer) -> (offset: Int64, length: Int)? {
        guard bytes.count == trailerSize, bytes[16..<24].elementsEqual(trailerMagic) else { return nil }
        let stored = bytes.loadLE(UInt32.self, at: 12)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<12])) == stored else { return nil }
        let offset = bytes.loadLE(Int64.self, at: 0)
        let length = Int(bytes.loadLE(UInt32.self, at: 8))
        guard offset >= Int64(SegmentHeader.size), length >= 16 else { return nil }
        return (offset, length)
    }

    /// Decodes footer bytes (without the trailer); nil when damaged in any way.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> SegmentFooter? {
        guard bytes.count >= 16, bytes.loadLE(UInt32.self, at: 0) == magic else { return nil }
        let stored = bytes.loadLE(UInt32.self, at: bytes.count - 4)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 4)])) == stored,
              bytes.loadLE(UInt16.self, at: 4) <= version
        else { return nil }
        let bodyLength = Int(bytes.loadLE(UInt32.self, at: 8))
        guard bodyLength == bytes.count - 16 else { return nil }
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[12..<(12 + bodyLength)]))
        guard let frameCount = reader.readLE(UInt32.self), Int(frameCount) * 44 <= reader.remaining else { return nil }
        var frames: [FrameEntry] = []
        frames.reserveCapacity(Int(frameCount))
        for _ in 0..<frameCount {
            guard let offset = reader.readLE(Int64.self), let first = reader.readLE(UInt64.self),
                  let count = reader.readLE(UInt32.self), let payload = reader.readLE(UInt32.self),
                  let uncompressed = reader.readLE(UInt32.self), let minTime = reader.readLE(Int64.self),
                  let maxTime = reader.readLE(Int64.self)
            else { return nil }
            frames.append(FrameEntry(offset: offset, firstSequence: first, recordCount: count,
                                     payloadLength: payload, uncompressedLength: uncompressed,
                                     minReceiveTime: minTime, maxReceiveTime: maxTime))
        }
        guard let summaryCount = reader.readLE(UInt32.self) else { return nil }
        var summaries: [KeySummary] = []
        for _ in 0..<summaryCount {
            guard let space = reader.readByte(), let probes = reader.readByte(), reader.readLE(UInt16.self) != nil,
                  let distinct = reader.readLE(UInt32.self), let bloomLength = reader.readLE(UInt32.self),
                  let bloom = reader.readSlice(Int(bloomLength))
            else { return nil }
            summaries.append(KeySummary(space: KeySpace(rawValue: space), distinctKeys: distinct,
                                        bloom: BloomFilter(bits: Array(bloom), probes: probes)))
        }
        guard reader.remaining == 0 else { return nil }
        return SegmentFooter(frames: frames, keySummaries: summaries)
    }
}
