/// Open-addressed slots for a table whose entries live elsewhere, in an array of their own: each slot
/// holds an entry's position or -1, found by the entry's hash (`tableHash`) and confirmed by the
/// caller. At most half full. What a compaction's tables (its groups by trace, the raw keys it
/// unindexes) use instead of a dictionary, which would hash each key again with SipHash.
public struct HashSlots: Sendable {
    @usableFromInline var slots: [Int32]
    /// Entries added: their positions are 0..<count.
    @usableFromInline var count = 0

    public init(capacity: Int = 256) {
        var size = 16
        while size < capacity * 2 { size *= 2 }
        slots = [Int32](repeating: -1, count: size)
    }

    /// The first entry along `hash`'s probe for which `matches` holds, or nil.
    @inlinable
    public func first(_ hash: UInt64, where matches: (Int) -> Bool) -> Int? {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash >> 32) & mask
        while slots[slot] >= 0 {
            if matches(Int(slots[slot])) { return Int(slots[slot]) }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// Adds the next entry (position `count`) with `hash`; `hashOf` gives each entry's hash when
    /// the slots grow.
    @inlinable
    public mutating func add(_ hash: UInt64, hashOf: (Int) -> UInt64) {
        place(count, hash)
        count += 1
        guard count * 2 > slots.count else { return }
        slots = [Int32](repeating: -1, count: slots.count * 2)
        for position in 0..<count { place(position, hashOf(position)) }
    }

    @inlinable
    mutating func place(_ position: Int, _ hash: UInt64) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash >> 32) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(position)
    }
}
