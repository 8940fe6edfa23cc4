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
              bytes[4] == typeZstdRecords, bytes.loadLE(UInt16.self, at: 6) == UInt16(size)
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
