import WickStore
/// The traces the assembler holds open: their not-yet-settled events, when they last heard of
/// them, and the bytes they take. A trace settles once idle for the settle timeout (receive time);
/// when the byte cap is passed, the traces idle longest drop their events (spill) and read them
/// back from the log when they settle, so nothing is ever lost to the cap.
struct OpenTraces {
    struct Pending {
        var sequence: UInt64
        var receiveTime: Int64
        var payload: [UInt8]
        /// Read from the log's stream now (not loaded back from the store when the trace reopened).
        var fromStream: Bool
        /// A raw event, or (loaded at a reopen) the compacted document of the trace's earlier events.
        var kind: RecordKind = .rawEvent
    }

    /// A trace's key (project, 0, trace id) hashed as one run of bytes.
    struct Key: Hashable {
        let bytes: [UInt8]

        func hash(into hasher: inout Hasher) {
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    /// One open trace. A class: it is updated in place for every event, and queues refer to it.
    final class Trace {
        let key: [UInt8]
        let project: String
        let traceID: String
        var records: [Pending] = []
        /// Every sequence number the trace has, ascending (what a spilled trace reads back).
        var sequences: [UInt64] = []
        var lastReceive: Int64 = 0
        /// The first sequence read from the stream for this trace while open: the cursor may not pass it.
        let firstStreamSequence: UInt64
        var lastStreamSequence: UInt64
        var bytes = 0
        var spilled = false
        /// Spilled, it reads its events back by key, not by sequence: it loaded a compacted document
        /// at its reopen (whose number is not a raw sequence number), or could not load them then.
        var readsBackByKey = false
        var isOpen = true

        init(key: [UInt8], project: String, traceID: String, firstStreamSequence: UInt64) {
            self.key = key
            self.project = project
            self.traceID = traceID
            self.firstStreamSequence = firstStreamSequence
            lastStreamSequence = firstStreamSequence
        }
    }

    private(set) var traces: [Key: Trace] = [:]
    /// (trace, last receive time) in the order events came; an entry is stale once its trace heard
    /// again (a later entry stands for it) or settled.
    private var idleQueue: [(trace: Trace, lastReceive: Int64)] = []
    private var idleHead = 0
    /// Where the next spill looks first: entries before it were spilled or superseded already.
    private var spillHead = 0
    /// Traces in the order they opened, which is the order of their first stream sequences.
    private var openOrder: [Trace] = []
    private var openOrderHead = 0
    private(set) var bytes = 0
    static let recordOverhead = 96

    var count: Int { traces.count }

    func trace(_ key: [UInt8]) -> Trace? { traces[Key(bytes: key)] }

    /// Opens a trace (a reopened one gets its earlier events from `addEarlier`).
    @discardableResult
    mutating func open(_ key: [UInt8], project: String, traceID: String, firstSequence: UInt64) -> Trace {
        let trace = Trace(key: key, project: project, traceID: traceID, firstStreamSequence: firstSequence)
        traces[Key(bytes: key)] = trace
        openOrder.append(trace)
        return trace
    }

    /// Adds a reopened trace's earlier events (every event the store holds for it, those of this
    /// stream included, which it has already).
    mutating func addEarlier(_ trace: Trace, _ earlier: [Pending]) {
        guard trace.isOpen, !earlier.isEmpty else { return }
        if earlier.contains(where: { $0.kind == .compactedDocument }) { trace.readsBackByKey = true }
        let known = Set(trace.sequences)
        var added: [UInt64] = []
        for record in earlier.sorted(by: { $0.sequence < $1.sequence }) where !known.contains(record.sequence) && added.last != record.sequence {
            added.append(record.sequence)
            guard !trace.spilled else { continue }
            trace.records.append(record)
            trace.bytes += record.payload.count + Self.recordOverhead
            bytes += record.payload.count + Self.recordOverhead
        }
        guard !added.isEmpty else { return }
        trace.sequences = (trace.sequences + added).sorted()
    }

    /// Drops what a trace holds: it reads all its events back by key when it settles.
    mutating func readBackByKey(_ trace: Trace) {
        guard trace.isOpen else { return }
        bytes -= trace.bytes
        trace.records = []
        trace.bytes = 0
        trace.spilled = true
        trace.readsBackByKey = true
    }

    /// Adds an event read from the log; false when the trace already had it (loaded at reopen). The
    /// payload is copied only when the trace holds its events (a spilled one reads them back).
    @discardableResult
    mutating func add(_ trace: Trace, sequence: UInt64, receiveTime: Int64, payload: UnsafeRawBufferPointer) -> Bool {
        add(trace, sequence: sequence, receiveTime: receiveTime) {
            Pending(sequence: sequence, receiveTime: receiveTime, payload: Array(payload), fromStream: true)
        }
    }

    @discardableResult
    mutating func add(_ trace: Trace, _ record: Pending) -> Bool {
        add(trace, sequence: record.sequence, receiveTime: record.receiveTime) { record }
    }

    private mutating func add(_ trace: Trace, sequence: UInt64, receiveTime: Int64, _ make: () -> Pending) -> Bool {
        let record = (sequence: sequence, receiveTime: receiveTime)
        trace.lastReceive = max(trace.lastReceive, record.receiveTime)
        trace.lastStreamSequence = max(trace.lastStreamSequence, record.sequence)
        idleQueue.append((trace, trace.lastReceive))
        // The stream comes in order; only events loaded at a reopen can be met again.
        if let last = trace.sequences.last, record.sequence <= last {
            if trace.sequences.contains(record.sequence) { return false }
            trace.sequences.insert(record.sequence, at: trace.sequences.firstIndex { $0 > record.sequence } ?? trace.sequences.endIndex)
        } else {
            trace.sequences.append(record.sequence)
        }
        if !trace.spilled {
            let pending = make()
            trace.records.append(pending)
            trace.bytes += pending.payload.count + Self.recordOverhead
            bytes += pending.payload.count + Self.recordOverhead
        }
        return true
    }

    /// Removes and returns the traces idle since `cutoff` or longer (receive time), at most `limit`.
    mutating func takeIdle(before cutoff: Int64, limit: Int = .max) -> [Trace] {
        var due: [Trace] = []
        while idleHead < idleQueue.count, idleQueue[idleHead].lastReceive <= cutoff, due.count < limit {
            let (trace, lastReceive) = idleQueue[idleHead]
            idleHead += 1
            // A later event moved this trace further back in the queue, or it settled already.
            guard trace.isOpen, trace.lastReceive == lastReceive else { continue }
            due.append(trace)
            bytes -= trace.bytes
            trace.isOpen = false
            traces[Key(bytes: trace.key)] = nil
        }
        compactQueues()
        return due
    }

    /// Puts back a trace `takeIdle` gave out that could not settle now (its events could not be read
    /// back); it is due again at once.
    mutating func putBack(_ trace: Trace) {
        trace.isOpen = true
        traces[Key(bytes: trace.key)] = trace
        bytes += trace.bytes
        idleQueue.append((trace, trace.lastReceive))
    }

    /// Spills the traces idle longest until the held bytes are under `cap`; returns how many.
    mutating func spill(under cap: Int) -> Int {
        var spilled = 0
        var index = max(idleHead, spillHead)
        defer { spillHead = index }
        while bytes > cap && index < idleQueue.count {
            let (trace, lastReceive) = idleQueue[index]
            index += 1
            guard trace.isOpen, trace.lastReceive == lastReceive, !trace.spilled else { continue }
            bytes -= trace.bytes
            trace.records = []
            trace.bytes = 0
            trace.spilled = true
            spilled += 1
        }
        return spilled
    }

    /// The smallest sequence an open trace still needs from the log's stream: the first sequence
    /// of the oldest trace still open.
    mutating func oldestNeededSequence() -> UInt64? {
        while openOrderHead < openOrder.count {
            let trace = openOrder[openOrderHead]
            if trace.isOpen { return trace.firstStreamSequence }
            openOrderHead += 1
        }
        return nil
    }

    private mutating func compactQueues() {
        if idleHead > 4096 && idleHead * 2 > idleQueue.count {
            idleQueue.removeFirst(idleHead)
            spillHead = max(0, spillHead - idleHead)
            idleHead = 0
        }
        if openOrderHead > 4096 && openOrderHead * 2 > openOrder.count {
            openOrder.removeFirst(openOrderHead)
            openOrderHead = 0
        }
    }
}
