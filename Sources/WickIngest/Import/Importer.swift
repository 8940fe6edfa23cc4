import Synchronization
public import WickJSON
import WickModel
public import WickStore

/// `wick import`: events read from another data directory, stored here as if they had just
/// arrived (the same checks, then assembly and compaction like any), each event id at most once
/// per project, however often an import is run or interrupted.
///
/// Once means once in the log, not only in the folds (which count an event id once anyway): the
/// store keeps a ledger of the (project, event id) pairs an import has stored, in the index's
/// documents (namespace `ledgerNamespace`, key: the first 16 bytes of SHA-256 of the project, a
/// zero byte and the event id). An id already in the ledger, or already in the store under its
/// trace (a replaying edge or a client sent it), is a duplicate and is skipped. The ledger is
/// written after the events are durable, so a crash between the two must not let the events go
/// in twice: before it appends, a batch sets the cursor `cursor` at the log's end, and the ledger
/// write removes it in the same transaction. A cursor left behind means an interrupted batch: the
/// ids of every raw event from it to the log's end go into the ledger before anything else is
/// imported (the cursor keeps those segments until then).
public final class Importer: Sendable {
    public struct Outcome: Sendable, Equatable {
        public var imported = 0
        public var duplicates = 0
        public var rejected = 0

        public init() {}

        public mutating func add(_ other: Outcome) {
            imported += other.imported
            duplicates += other.duplicates
            rejected += other.rejected
        }

        public var json: JSONValue {
            .object(["imported": .number(JSONNumber(imported)), "duplicates": .number(JSONNumber(duplicates)),
                     "rejected": .number(JSONNumber(rejected))])
        }

        public init?(json: JSONValue) {
            guard let imported = json["imported"]?.numberValue?.int64Value, let duplicates = json["duplicates"]?.numberValue?.int64Value,
                  let rejected = json["rejected"]?.numberValue?.int64Value
            else { return nil }
            self.imported = Int(imported)
            self.duplicates = Int(duplicates)
            self.rejected = Int(rejected)
        }
    }

    /// The request was not a `{"batch":[…]}` of events.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The ledger's document namespace (trace documents use 1 to 3).
    public static let ledgerNamespace: UInt8 = 4
    /// Set while a batch is being stored.
    public static let cursor = "import"

    private let store: DataStore
    private let processor: LineProcessor
    private let counters: IngestCounters
    /// One batch at a time: the ledger is read, then written, around each.
    private let serial = Mutex<Void>(())

    public init(store: DataStore, counters: IngestCounters, maxDepth: Int = 64) {
        self.store = store
        self.counters = counters
        processor = LineProcessor(maxDepth: maxDepth)
    }

    /// Puts what an interrupted batch stored into the ledger; the number of ids it added.
    @discardableResult
    public func recoverInterrupted() throws -> Int {
        try serial.withLock { (_: inout Void) throws -> Int in try recover() }
    }

    /// Imports one `{"batch":[…]}` of `project`'s events and returns once they are durable and in
    /// the ledger. Blocks the calling thread (run it on one of its own). `afterDurable` runs between
    /// the two (the crash test stops the process there).
    public func importBatch(_ body: UnsafeRawBufferPointer, project: String, afterDurable: () -> Void = {}) throws -> Outcome {
        try serial.withLock { (_: inout Void) throws -> Outcome in
            _ = try recover()
            let scanned: ScannedLine
            do {
                scanned = try processor.scanner.scan(body)
            } catch {
                throw Invalid(message: "the body is not JSON: \(error)")
            }
            guard case .batch(let elements) = scanned else { throw Invalid(message: "expected an object with a \"batch\" array of events") }
            let projectBytes = Array(project.utf8)
            return try projectBytes.withUnsafeBytes { (raw) throws -> Outcome in
                try storeBatch(elements, in: body, project: raw, afterDurable: afterDurable)
            }
        }
    }

    private func storeBatch(_ elements: [BatchElement], in body: UnsafeRawBufferPointer, project: UnsafeRawBufferPointer,
                       afterDurable: () -> Void) throws -> Outcome {
        let receiveTime = store.events.configuration.clock.microseconds()
        var outcome = Outcome()
        var events = RecordBatch()
        var rejects = RecordBatch()
        var candidates: [(fields: EnvelopeFields, key: [UInt8]?)] = []
        for element in elements {
            switch element {
            case .event(let fields):
                candidates.append((fields, fields.id.flatMap { Self.ledgerKey(project: project, id: $0, in: body) }))
            case .notAnObject(let field):
                processor.reject(UnsafeRawBufferPointer(rebasing: body[field.range]), reason: .batchElementNotObject,
                                 detail: "a batch element is a \(field.kind), not an event object", receiveTime: receiveTime,
                                 project: project, source: .imported, into: &rejects, counters: counters)
                outcome.rejected += 1
            }
        }
        let keys = candidates.compactMap(\.key)
        var known = Set(zip(keys, try store.hasDocuments(namespace: Self.ledgerNamespace, keys: keys)).filter(\.1).map(\.0))
        var stored = TraceContents(store: store)
        var ledger: [[UInt8]] = []
        for (fields, key) in candidates {
            if let key {
                guard known.insert(key).inserted else {
                    outcome.duplicates += 1
                    continue
                }
                ledger.append(key)
                if case .accepted(let event) = EnvelopeValidator.check(fields, in: body), let trace = event.traceID,
                   try stored.holds(key, trace: trace, in: body) {
                    outcome.duplicates += 1
                    continue
                }
            }
            if processor.element(fields, in: body, receiveTime: receiveTime, project: project, source: .imported, events: &events,
                                 rejects: &rejects, counters: counters) == nil {
                outcome.imported += 1
            } else {
                outcome.rejected += 1
            }
        }
        if !events.isEmpty {
            try store.setCursor(Self.cursor, to: store.events.durableSequence)
            _ = try store.events.appendAndWait(events)
        }
        if !rejects.isEmpty { _ = try store.deadLetters.appendAndWait(rejects) }
        if !events.isEmpty { afterDurable() }
        counters.eventsAccepted.add(outcome.imported, ordering: .relaxed)
        try store.commitDocuments(ledger.map { DocumentWrite(namespace: Self.ledgerNamespace, key: $0, value: []) },
                                  removingCursor: Self.cursor)
        return outcome
    }

    private func recover() throws -> Int {
        guard let start = try store.cursor(Self.cursor) else { return 0 }
        var writes: [DocumentWrite] = []
        var total = 0
        try store.events.reader().read(from: start, until: store.events.durableSequence) { _, record in
            guard record.kind == .rawEvent, case .event(let fields)? = try? processor.scanner.scan(record.payload), let id = fields.id,
                  let key = Self.ledgerKey(project: record.project, id: id, in: record.payload)
            else { return }
            writes.append(DocumentWrite(namespace: Self.ledgerNamespace, key: key, value: []))
            if writes.count >= 10_000 {
                try store.commitDocuments(writes, cursor: nil)
                total += writes.count
                writes.removeAll()
            }
        }
        try store.commitDocuments(writes, removingCursor: Self.cursor)
        return total + writes.count
    }

    /// The ledger's key for an event id (a string field of `line`) in a project.
    static func ledgerKey(project: UnsafeRawBufferPointer, id: JSONField, in line: UnsafeRawBufferPointer) -> [UInt8]? {
        guard id.kind == .string else { return nil }
        var message = Array(project)
        message.append(0)
        if id.hasEscapes {
            message.append(contentsOf: id.decodedBytes(in: line))
        } else {
            message.append(contentsOf: id.rawBytes(in: line))
        }
        return Array(SHA256.hash(message).prefix(16))
    }
}

/// The ledger keys of the raw events the store holds under a trace, read once per trace.
private struct TraceContents {
    let store: DataStore
    var byTrace: [[UInt8]: Set<[UInt8]>] = [:]

    init(store: DataStore) {
        self.store = store
    }

    mutating func holds(_ key: [UInt8], trace: JSONField, in line: UnsafeRawBufferPointer) throws -> Bool {
        let traceID = trace.hasEscapes ? Array(trace.decodedBytes(in: line)) : Array(trace.rawBytes(in: line))
        if let keys = byTrace[traceID] { return keys.contains(key) }
        let indexKey = IndexKey(space: KeySpace(rawValue: IndexSpaces.traceID), bytes: traceID)
        var keys = Set<[UInt8]>()
        if try !store.locations(for: indexKey).isEmpty {
            for record in try store.records(for: indexKey) where record.kind == .rawEvent {
                var project = record.project
                let found: [UInt8]? = project.withUTF8 { projectBytes in
                    record.payload.withUnsafeBytes { payload in
                        guard case .event(let fields)? = try? JSONScanner().scan(payload), let id = fields.id else { return nil }
                        return Importer.ledgerKey(project: UnsafeRawBufferPointer(projectBytes), id: id, in: payload)
                    }
                }
                if let found { keys.insert(found) }
            }
        }
        byTrace[traceID] = keys
        return keys.contains(key)
    }
}
