/// A bloom filter over key hashes, sized for about 1% false positives (10 bits and 7 probes per key),
/// as Tempo does per block. Stored in segment footers so a segment can answer "might it hold key K?"
/// without the index.
struct BloomFilter: Equatable, Sendable {
    private(set) var bits: [UInt8]
    let probes: UInt8

    init(expectedKeys: Int) {
        let bitCount = max(64, expectedKeys * 10)
        bits = [UInt8](repeating: 0, count: (bitCount + 7) / 8)
        probes = 7
    }

    init(bits: [UInt8], probes: UInt8) {
        self.bits = bits
        self.probes = probes
    }

    mutating func insert(hash: UInt64) {
        let bitCount = UInt64(bits.count * 8)
        let (h1, h2) = (hash & 0xFFFF_FFFF, (hash >> 32) | 1)
        for i in 0..<UInt64(probes) {
            let bit = (h1 &+ i &* h2) % bitCount
            bits[Int(bit / 8)] |= 1 << UInt8(bit % 8)
        }
    }

    func mightContain(hash: UInt64) -> Bool {
        guard !bits.isEmpty else { return false }
        let bitCount = UInt64(bits.count * 8)
        let (h1, h2) = (hash & 0xFFFF_FFFF, (hash >> 32) | 1)
        for i in 0..<UInt64(probes) {
            let bit = (h1 &+ i &* h2) % bitCount
            if bits[Int(bit / 8)] & (1 << UInt8(bit % 8)) == 0 { return false }
        }
        return true
    }
}
