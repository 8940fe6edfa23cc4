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
    private var slots = HashSlots()

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
        let known = slots.first(hash) { index in
            let entry = entries[index]
            return entry.hash == hash && entry.count == rest.count + 1 && bytes[entry.start] == first
                && bytes.withUnsafeBytes { compareBytes(UnsafeRawBufferPointer(rebasing: $0[(entry.start + 1)..<(entry.start + entry.count)]), rest) == 0 }
        }
        guard known == nil else { return }
        entries.append(Entry(start: bytes.count, count: rest.count + 1, hash: hash))
        bytes.append(first)
        bytes.append(contentsOf: rest)
        slots.add(hash) { entries[$0].hash }
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
