/// Index entries produced by one group commit: (key, frame location) pairs, keys stored flat so a
/// commit of a hundred thousand records costs two allocations, not a hundred thousand.
struct IndexWork: Sendable {
    struct Entry: Sendable {
        var keyOffset: UInt32
        var keyLength: UInt16
        var location: FrameLocation
    }

    /// Space byte followed by key bytes, for every entry, back to back.
    private(set) var keys: [UInt8] = []
    private(set) var entries: [Entry] = []
    /// Every record with a sequence number below this is covered once the work is applied.
    var highWaterMark: UInt64 = 0

    var isEmpty: Bool { entries.isEmpty }

    mutating func add(space: KeySpace, key: UnsafeRawBufferPointer, location: FrameLocation) {
        let offset = keys.count
        keys.append(space.rawValue)
        keys.append(contentsOf: IndexKeyEncoding.storedKey(key))
        entries.append(Entry(keyOffset: UInt32(offset), keyLength: UInt16(keys.count - offset), location: location))
    }

    mutating func append(_ other: IndexWork) {
        let base = UInt32(keys.count)
        keys.append(contentsOf: other.keys)
        entries.append(contentsOf: other.entries.map {
            Entry(keyOffset: $0.keyOffset + base, keyLength: $0.keyLength, location: $0.location)
        })
        highWaterMark = max(highWaterMark, other.highWaterMark)
    }

    /// True when the last entry is `key` in `space` (consecutive records of one trace share a frame
    /// entry; this skips the duplicate before it costs a sort).
    func lastEntryMatches(space: KeySpace, key: UnsafeRawBufferPointer, since start: Int) -> Bool {
        guard let last = entries.last, entries.count > start else { return false }
        let stored = Int(last.keyLength) - 1
        guard key.count <= IndexKeyEncoding.maxWholeKey, stored == key.count else { return false }
        return keys.withUnsafeBytes { raw in
            raw[Int(last.keyOffset)] == space.rawValue
                && compareBytes(UnsafeRawBufferPointer(rebasing: raw[Int(last.keyOffset) + 1..<Int(last.keyOffset) + Int(last.keyLength)]), key) == 0
        }
    }

    /// Points the entries from `start` on at `location` (the frame they belong to has been placed).
    mutating func setLocation(_ location: FrameLocation, from start: Int) {
        for index in start..<entries.count {
            entries[index].location = location
        }
    }

    /// Sorts by (key, location) and drops duplicates, so LMDB sees ordered puts (fewer page splits).
    mutating func sortAndDeduplicate() {
        keys.withUnsafeBytes { raw in
            func key(_ e: Entry) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: raw[Int(e.keyOffset)..<Int(e.keyOffset) + Int(e.keyLength)])
            }
            entries.sort { a, b in
                let order = compareBytes(key(a), key(b))
                return order != 0 ? order < 0 : a.location < b.location
            }
            var unique: [Entry] = []
            unique.reserveCapacity(entries.count)
            for entry in entries {
                if let last = unique.last, last.location == entry.location, compareBytes(key(last), key(entry)) == 0 {
                    continue
                }
                unique.append(entry)
            }
            entries = unique
        }
    }

    func withKey<R>(_ entry: Entry, _ body: (UnsafeRawBufferPointer) throws(StorageError) -> R) throws(StorageError) -> R {
        try keys.withBytes { (raw) throws(StorageError) -> R in
            try body(UnsafeRawBufferPointer(rebasing: raw[Int(entry.keyOffset)..<Int(entry.keyOffset) + Int(entry.keyLength)]))
        }
    }
}

/// Lexicographic byte order (memcmp), shorter first on a common prefix, as LMDB orders keys.
func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let common = min(a.count, b.count)
    if common > 0 {
        let order = memcmpBytes(a.baseAddress!, b.baseAddress!, common)
        if order != 0 { return order }
    }
    return a.count - b.count
}

#if canImport(Glibc)
import Glibc
#endif

@inline(__always)
private func memcmpBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Int {
    Int(memcmp(a, b, count))
}

/// How index keys and locations are laid out in LMDB (docs/format.md §5).
enum IndexKeyEncoding {
    /// LMDB's key limit is 511 bytes; with the space byte, keys up to 480 bytes are stored whole.
    static let maxWholeKey = 480

    /// Keys longer than `maxWholeKey` are stored as a 400-byte prefix plus a 64-bit hash of the whole
    /// key. Two long keys may then share an entry; readers compare the real keys in the records.
    static func storedKey(_ key: UnsafeRawBufferPointer) -> [UInt8] {
        guard key.count > maxWholeKey else { return Array(key) }
        var stored = Array(key.prefix(400))
        stored.append(0xFF)
        stored.appendLE(keyHash(key))
        return stored
    }

    static func lmdbKey(_ key: IndexKey) -> [UInt8] {
        key.bytes.withUnsafeBytes { lmdbKey(key.space, $0) }
    }

    static func lmdbKey(_ space: KeySpace, _ key: UnsafeRawBufferPointer) -> [UInt8] {
        var bytes = [space.rawValue]
        bytes.append(contentsOf: storedKey(key))
        return bytes
    }

    /// LMDB's key order (memcmp), for the sorted key lists entry removal takes.
    static func lmdbOrder(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in compareBytes(x, y) < 0 } }
    }

    /// Big-endian so LMDB's duplicate order is (segment, offset).
    static func encode(_ location: FrameLocation) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        Swift.withUnsafeBytes(of: location.segment.bigEndian) { bytes.append(contentsOf: $0) }
        Swift.withUnsafeBytes(of: UInt64(bitPattern: location.offset).bigEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    static func decodeLocation(_ bytes: UnsafeRawBufferPointer) -> FrameLocation? {
        guard bytes.count == 16 else { return nil }
        let segment = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        let offset = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        return FrameLocation(segment: segment, offset: Int64(bitPattern: offset))
    }

    static func encodeSegmentID(_ id: UInt64) -> [UInt8] {
        withUnsafeBytes(of: id.bigEndian) { Array($0) }
    }
}
