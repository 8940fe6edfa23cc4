import WickJSON

/// What a sink kind implements: delivering one batch of stored events somewhere. Everything else —
/// the durable cursor, reading the log, batching, ordering, batches in flight, backoff with
/// jitter, dead letters for refused events, statistics — is the `Replayer`'s, shared by every kind.
///
/// A transport is called from the replayer's own threads (never an event loop or Swift's
/// cooperative pool), so it may block: connect, write, fsync. `send` runs for up to
/// `min(sink.concurrency, maxConcurrency)` batches at once, each a different range of the log;
/// the cursor moves over a batch only once it and every batch before it came back `delivered`.
///
/// A kind receives the events as they were stored: validated JSON, one Langfuse ingestion event
/// (`{id, type, timestamp, body}`) each, with its project and receive time. It encodes them its own
/// way: the Langfuse kind sends `{"batch":[…]}`, the file kind appends NDJSON lines, and a kind
/// that needs more can parse each payload (`JSONValue.parse`, or WickModel's event decoder).
public protocol ReplayTransport: Sendable {
    /// Batches this kind can take at once: 1 for one that must append in order (a file).
    var maxConcurrency: Int { get }

    /// Called once, on a replay thread, before the first batch, with the sink's cursor as the store
    /// holds it (nil: never set). Returns the log position to start from: most kinds return
    /// `storedCursor ?? 0`; one with durable state of its own (the file kind) reconciles the two
    /// and returns where that state says it stopped. A throw is retried with backoff.
    func prepare(storedCursor: UInt64?) throws -> UInt64

    /// Delivers `batch`. Blocking. `.retry` when it may work later (network errors, 429, 5xx, a
    /// full disk); the same batch is offered again after a backoff. Never called with an empty batch.
    func send(_ batch: ReplayBatch) -> ReplayOutcome

    /// Called once, after the last `send` has returned, when the replayer stops.
    func close()
}

extension ReplayTransport {
    public var maxConcurrency: Int { .max }
    public func prepare(storedCursor: UInt64?) throws -> UInt64 { storedCursor ?? 0 }
    public func close() {}
}

/// What became of a batch.
public enum ReplayOutcome: Sendable {
    /// The receiver took the batch, durably as far as it says: every event is delivered except
    /// `refused`, which it refused for good (these go to the dead-letter log with the reason).
    /// `wireBytes`: what the batch cost on the wire or on disk (after compression).
    case delivered(wireBytes: Int, refused: [ReplayRefusal])
    /// Nothing is known to be delivered; try the batch again later. The reason is logged.
    case retry(String)

    public static func delivered(wireBytes: Int) -> ReplayOutcome { .delivered(wireBytes: wireBytes, refused: []) }
}

/// An event the receiver refused for good: its position in the batch, and why.
public struct ReplayRefusal: Sendable, Equatable {
    public var index: Int
    public var reason: String

    public init(index: Int, reason: String) {
        self.index = index
        self.reason = reason
    }
}

/// One event of a batch, as stored.
public struct ReplayEvent: Sendable {
    /// Its sequence number in the log.
    public var sequence: UInt64
    /// When the daemon received it, microseconds since the Unix epoch.
    public var receiveTime: Int64
    public var project: String
    /// The event as it came: one JSON object, validated on ingest, without a newline.
    public var payload: ArraySlice<UInt8>
}

/// The events of one batch, in log order: payloads back to back, and where each starts.
public struct ReplayBatch: Sendable, RandomAccessCollection {
    /// The log positions the batch covers (`start..<end`); records in it that are not events (none
    /// today) are not in the batch.
    public internal(set) var range: Range<UInt64>
    private var bytes: [UInt8] = []
    private var starts: [Int] = []
    private var sequences: [UInt64] = []
    private var receiveTimes: [Int64] = []
    private var projects: [String] = []

    public init(range: Range<UInt64> = 0..<0) {
        self.range = range
    }

    /// Adds an event (the file-kind tests and other callers build batches by hand).
    public mutating func append(sequence: UInt64, receiveTime: Int64, project: String, payload: some Collection<UInt8>) {
        starts.append(bytes.count)
        bytes.append(contentsOf: payload)
        sequences.append(sequence)
        receiveTimes.append(receiveTime)
        // Events of a batch nearly always share a project: keep one string for a run of them.
        projects.append(projects.last == project ? projects[projects.count - 1] : project)
    }

    mutating func append(sequence: UInt64, receiveTime: Int64, project: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) {
        starts.append(bytes.count)
        bytes.append(contentsOf: payload)
        sequences.append(sequence)
        receiveTimes.append(receiveTime)
        if let last = projects.last, last.utf8.elementsEqual(project) {
            projects.append(last)
        } else {
            projects.append(String(decoding: project, as: UTF8.self))
        }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { starts.count }

    public subscript(index: Int) -> ReplayEvent {
        ReplayEvent(sequence: sequences[index], receiveTime: receiveTimes[index], project: projects[index], payload: payload(index))
    }

    /// Bytes of the events' payloads, together.
    public var payloadBytes: Int { bytes.count }

    public func payload(_ index: Int) -> ArraySlice<UInt8> {
        bytes[starts[index]..<(index + 1 < starts.count ? starts[index + 1] : bytes.count)]
    }

    /// The events as NDJSON, one line each, as `wick export` writes an event (`JSONWriter.appendLine`).
    public var ndjson: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + starts.count)
        for index in starts.indices { JSONWriter.appendLine(payload(index), to: &out) }
        return out
    }

    /// The first event whose envelope id is `id`.
    public func index(ofEventID id: String) -> Int? {
        for index in starts.indices {
            let found: Bool = payload(index).withUnsafeBytes { raw in
                guard case .event(let fields)? = try? JSONScanner().scan(raw), let field = fields.id else { return false }
                return field.kind == .string && field.string(in: raw) == id
            }
            if found { return index }
        }
        return nil
    }
}
