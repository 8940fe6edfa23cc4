import Testing

@testable import WickStore
import WickTestSupport

@Suite struct KeySetTests {
    /// Keys repeated many times over, in two spaces, some sharing prefixes, some empty, some too long
    /// to store whole (two of those differing only past the stored prefix): the set holds each once,
    /// in LMDB form, and gives them in LMDB's order, as a set of built keys sorted does.
    @Test func holdsEachKeyOnceInLMDBOrder() {
        var generator = SplitMix(seed: 1206)
        let long = [UInt8](repeating: 0x61, count: IndexKeyEncoding.maxWholeKey + 20)
        var distinct: [[UInt8]] = [[], [0x74], [0x74, 0x31], [0x74, 0x31, 0x30], long, long + [0x62], long + [0x63]]
        for _ in 0..<3000 {
            distinct.append((0..<Int.random(in: 1...40, using: &generator)).map { _ in UInt8.random(in: 0x30...0x39, using: &generator) })
        }
        var set = KeySet()
        var expected = Set<[UInt8]>()
        for _ in 0..<20_000 {
            let key = distinct[Int.random(in: 0..<distinct.count, using: &generator)]
            let space = KeySpace(rawValue: UInt8.random(in: 1...2, using: &generator))
            key.withUnsafeBytes { bytes in
                set.insert(space, bytes)
                expected.insert(IndexKeyEncoding.lmdbKey(space, bytes))
            }
        }
        #expect(set.count == expected.count)
        #expect(set.sorted() == expected.sorted(by: IndexKeyEncoding.lmdbOrder))
    }
}
