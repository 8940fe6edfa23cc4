/// The distinct index keys of many records, in LMDB form: what a compaction unindexes for the raw
/// records it replaces. Most records repeat a key seen before (a trace's events), so a key is found
/// by a hash and its bytes without building it, and the keys are kept back to back in one buffer,
/// not as an array each (a compaction sees about a million records).
struct KeySet: Sendable {
    private struct Entry: Sendable {
        var start: Int
        var count: Int
        var hash: UInt64
    }

    /// Each key's LMDB form (the space byte, then the stored key), back to back.
    private var bytes: [UInt8] = []
    private var entries: [Entry] = []
    /// Open addressing by hash: an index into `entries`, or -1 for a free slot. At most half full.
    private var slots = [Int32](repeating: -1, count: 256)

    var count: Int { entries.count }

    mutating func insert(_ space: KeySpace, _ key: UnsafeRawBufferPointer) {
        guard key.count <= IndexKeyEncoding.maxWholeKey else {
            // Stored as a prefix and a hash (IndexKeyEncoding.storedKey): built, as such keys are rare.
            let stored = IndexKeyEncoding.storedKey(key)
            stored.withUnsafeBytes { insert(first: space.rawValue, rest: $0) }
            return
        }
        insert(first: space.rawValue, rest: key)
    }

    private mutating func insert(first: UInt8, rest: UnsafeRawBufferPointer) {
        let hash = tableHash(rest, seed: UInt64(first))
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash >> 32) & mask
        while true {
            let index = Int(slots[slot])
            if index < 0 { break }
            let entry = entries[index]
            if entry.hash == hash, entry.count == rest.count + 1, bytes[entry.start] == first,
               bytes.withUnsafeBytes({ compareBytes(UnsafeRawBufferPointer(rebasing: $0[(entry.start + 1)..<(entry.start + entry.count)]), rest) == 0 }) {
                return
            }
            slot = (slot + 1) & mask
        }
        slots[slot] = Int32(entries.count)
        entries.append(Entry(start: bytes.count, count: rest.count + 1, hash: hash))
        bytes.append(first)
        bytes.append(contentsOf: rest)
        if entries.count * 2 > slots.count { grow() }
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (index, entry) in entries.enumerated() {
            var slot = Int(truncatingIfNeeded: entry.hash >> 32) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
        }
    }

    /// The keys in LMDB's order (what `IndexStore.removeEntries` takes).
    func sorted() -> [[UInt8]] {
        bytes.withUnsafeBytes { raw in
            func key(_ entry: Entry) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: raw[entry.start..<(entry.start + entry.count)])
            }
            return entries.sorted { compareBytes(key($0), key($1)) < 0 }.map { Array(key($0)) }
        }
    }
}
