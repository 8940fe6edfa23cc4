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
    }

    struct Trace {
        var project: String
        var traceID: String
        var records: [Pending] = []
        var sequences = Set<UInt64>()
        var lastReceive: Int64 = 0
        /// The first sequence read from the stream for this trace while open: the cursor may not pass it.
        var firstStreamSequence: UInt64
        var lastStreamSequence: UInt64
        var bytes = 0
        var spilled = false
        var reopened = false
    }

    private(set) var traces: [[UInt8]: Trace] = [:]
    /// (key, last receive time) in the order events came; entries a later event superseded are skipped.
    private var idleQueue: [(key: [UInt8], lastReceive: Int64)] = []
    private var idleHead = 0
    private(set) var bytes = 0
    static let recordOverhead = 96

    var count: Int { traces.count }

    func contains(_ key: [UInt8]) -> Bool { traces[key] != nil }

    /// Opens a trace (with the events of an earlier settle, when it is a reopen).
    mutating func open(_ key: [UInt8], project: String, traceID: String, firstSequence: UInt64, earlier: [Pending]) {
        var trace = Trace(project: project, traceID: traceID, firstStreamSequence: firstSequence, lastStreamSequence: firstSequence)
        trace.reopened = !earlier.isEmpty
        for record in earlier where trace.sequences.insert(record.sequence).inserted {
            trace.bytes += record.payload.count + Self.recordOverhead
            trace.records.append(record)
        }
        bytes += trace.bytes
        traces[key] = trace
    }

    /// Adds an event read from the log; false when the trace already had it (loaded at reopen).
    @discardableResult
    mutating func add(_ key: [UInt8], _ record: Pending) -> Bool {
        guard var trace = traces[key] else { preconditionFailure("add to a trace that is not open") }
        defer { traces[key] = trace }
        trace.lastReceive = max(trace.lastReceive, record.receiveTime)
        trace.lastStreamSequence = max(trace.lastStreamSequence, record.sequence)
        idleQueue.append((key, trace.lastReceive))
        guard trace.sequences.insert(record.sequence).inserted else { return false }
        if !trace.spilled {
            trace.records.append(record)
            trace.bytes += record.payload.count + Self.recordOverhead
            bytes += record.payload.count + Self.recordOverhead
        }
        return true
    }

    /// Removes and returns the traces idle since `cutoff` or longer (receive time).
    mutating func takeIdle(before cutoff: Int64) -> [([UInt8], Trace)] {
        var due: [([UInt8], Trace)] = []
        while idleHead < idleQueue.count, idleQueue[idleHead].lastReceive <= cutoff {
            let (key, lastReceive) = idleQueue[idleHead]
            idleHead += 1
            // A later event moved this trace further back in the queue.
            guard let trace = traces[key], trace.lastReceive == lastReceive else { continue }
            due.append((key, trace))
            bytes -= trace.bytes
            traces[key] = nil
        }
        compactQueue()
        return due
    }

    /// Puts back a trace `takeIdle` gave out that could not settle now (its events could not be read
    /// back); it is due again at once.
    mutating func putBack(_ key: [UInt8], _ trace: Trace) {
        traces[key] = trace
        bytes += trace.bytes
        idleQueue.append((key, trace.lastReceive))
    }

    /// Spills the traces idle longest until the held bytes are under `cap`; returns how many.
    mutating func spill(under cap: Int) -> Int {
        var spilled = 0
        var index = idleHead
        while bytes > cap && index < idleQueue.count {
            let (key, lastReceive) = idleQueue[index]
            index += 1
            guard var trace = traces[key], trace.lastReceive == lastReceive, !trace.spilled else { continue }
            bytes -= trace.bytes
            trace.records = []
            trace.bytes = 0
            trace.spilled = true
            traces[key] = trace
            spilled += 1
        }
        return spilled
    }

    /// The smallest sequence an open trace still needs from the log's stream.
    var oldestNeededSequence: UInt64? {
        traces.values.map(\.firstStreamSequence).min()
    }

    private mutating func compactQueue() {
        if idleHead > 4096 && idleHead * 2 > idleQueue.count {
            idleQueue.removeFirst(idleHead)
            idleHead = 0
        }
    }
}
