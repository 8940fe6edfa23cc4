import CWickLinux

/// CRC-32C (Castagnoli). Chosen over the IEEE polynomial for the hardware instruction (SSE4.2)
/// and because Kafka, ext4 and iSCSI use it; one polynomial everywhere in the format.
public enum CRC32C: Sendable {
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        CWickLinux_crc32c(crc, bytes.baseAddress, bytes.count)
    }

    public static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }
}
