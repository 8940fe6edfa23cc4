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

/// A 64-bit hash of bytes for tables in memory (a compaction's groups and keys), eight bytes at a
/// time: a trace id of 36 bytes is five steps, where FNV takes 36 dependent multiplies. Nothing
/// stored uses it (bloom filters and shortened keys use ``keyHash(_:seed:)``), so it may change.
@inlinable
public func tableHash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
    var hash = seed ^ (UInt64(truncatingIfNeeded: bytes.count) &* 0x9E37_79B9_7F4A_7C15)
    guard let base = bytes.baseAddress else { return tableMix(hash) }
    var offset = 0
    while offset + 8 <= bytes.count {
        hash = (hash ^ UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))) &* 0xBF58_476D_1CE4_E5B9
        hash ^= hash >> 29
        offset += 8
    }
    if offset < bytes.count {
        var tail: UInt64 = 0
        for index in offset..<bytes.count { tail |= UInt64(base.load(fromByteOffset: index, as: UInt8.self)) << (8 * UInt64(index - offset)) }
        hash = (hash ^ tail) &* 0xBF58_476D_1CE4_E5B9
    }
    return tableMix(hash)
}

/// SplitMix64's finaliser: every bit of the input reaches the high bits a table takes its slot from.
@inlinable
func tableMix(_ value: UInt64) -> UInt64 {
    var z = value
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
