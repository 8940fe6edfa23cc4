/// A 64-bit hash of key bytes (FNV-1a with a murmur3 finaliser for avalanche). Used for bloom
/// filters and for shortening keys too long for LMDB; never for anything that must be exact:
/// a lookup always compares the real key bytes of the records it reads.
@inlinable
func keyHash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
    for byte in bytes {
        hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
    hash ^= hash >> 33
    hash &*= 0xFF51_AFD7_ED55_8CCD
    hash ^= hash >> 33
    hash &*= 0xC4CE_B9FE_1A85_EC53
    hash ^= hash >> 33
    return hash
}

func keyHash(_ bytes: [UInt8]) -> UInt64 {
    bytes.withUnsafeBytes { keyHash($0) }
}
