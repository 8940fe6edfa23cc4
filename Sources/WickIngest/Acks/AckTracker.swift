/// Acknowledgements of one stream connection, as a pure state machine.
///
/// Each processed chunk of lines becomes an entry; it is done at once when it holds nothing to store
/// (only rejects or ignored lines), or when its append is durable. Acks report the lines done so far,
/// cumulatively and in order: an entry that finishes early waits for the ones before it, so the
/// count a client sees never runs ahead of durability and never goes down.
struct AckTracker: Sendable {
    struct Ack: Sendable, Equatable {
        /// Lines of this connection durable, rejected or ignored, from the first.
        var lines: Int
        var rejected: Int
    }

    private struct Entry {
        var id: UInt64
        var lines: Int
        var rejected: Int
        var done: Bool
    }

    private var entries: [Entry] = []
    private var head = 0
    private var nextID: UInt64 = 0
    private(set) var acked = Ack(lines: 0, rejected: 0)

    /// Entries not yet acknowledged.
    var outstanding: Int { entries.count - head }

    /// Records a chunk; returns its id and, when that completes a prefix, the ack to send now.
    mutating func add(lines: Int, rejected: Int, waitsForCommit: Bool) -> (UInt64, Ack?) {
        let id = nextID
        nextID += 1
        entries.append(Entry(id: id, lines: lines, rejected: rejected, done: !waitsForCommit))
        return (id, waitsForCommit ? nil : advance())
    }

    /// Marks a chunk durable; returns the ack to send, if the acknowledged prefix grew.
    mutating func complete(_ id: UInt64) -> Ack? {
        guard head < entries.count, id >= entries[head].id else { return nil }
        let index = head + Int(id - entries[head].id)
        guard index < entries.count else { return nil }
        entries[index].done = true
        return advance()
    }

    private mutating func advance() -> Ack? {
        var moved = false
        while head < entries.count && entries[head].done {
            acked.lines += entries[head].lines
            acked.rejected += entries[head].rejected
            head += 1
            moved = true
        }
        if head > 256 && head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
        return moved ? acked : nil
    }
}
