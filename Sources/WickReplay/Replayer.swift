public import Logging
public import ServiceLifecycle
public import Synchronization
import WickJSON
public import WickStore

/// Replays the event log into a central server through Langfuse's batch ingestion API (another
/// Wick, or a Langfuse server): the raw events as they came, original ids kept, in batches, from a
/// durable cursor of its own that moves only once the receiver accepted. Network errors, 429 and
/// 5xx back off exponentially with jitter and try again, never giving up on durable data (only
/// the disk budget can drop it, and counts it). Events the receiver rejects for good (4xx in the
/// 207) go to the local dead-letter log with its reason. At least once: a receiver deduplicates by
/// event id (a Wick's folds do).
public final class Replayer: Service, Sendable {
    public struct Sink: Sendable, Equatable {
        public var name = "central"
        /// `http://HOST:PORT` (plus a path prefix, if the server has one). No TLS yet.
        public var url: String
        public var publicKey: String
        public var secretKey: String
        public var batchEvents = 5000
        /// Langfuse refuses batches over 4.5 MB; stay well under.
        public var batchBytes = 3_500_000
        public var gzip = true
        /// Batches in flight at once: each waits for the receiver's durability, so throughput comes
        /// from several (the cursor still moves only over a contiguous run of accepted batches).
        public var concurrency = 4
        public var backoffInitialMilliseconds: Int64 = 5000
        public var backoffMaxMilliseconds: Int64 = 30_000
        public var timeoutSeconds = 30

        public init(url: String, publicKey: String, secretKey: String) {
            self.url = url
            self.publicKey = publicKey
            self.secretKey = secretKey
        }

        public var cursor: String { "replay." + name }

        /// HOST:PORT and the path prefix of `url`; nil unless it is plain http.
        public var target: (address: String, prefix: String)? {
            guard url.hasPrefix("http://") else { return nil }
            let rest = url.dropFirst(7)
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            var prefix = String(rest[slash...])
            while prefix.hasSuffix("/") { prefix.removeLast() }
            let address = String(rest[..<slash])
            return address.contains(":") ? (address, prefix) : (address + ":80", prefix)
        }
    }

    public final class Statistics: Sendable {
        public let events = Atomic<Int>(0)
        public let batches = Atomic<Int>(0)
        /// NDJSON bytes of the events sent, and bytes on the wire (after gzip).
        public let rawBytes = Atomic<Int>(0)
        public let wireBytes = Atomic<Int>(0)
        public let retries = Atomic<Int>(0)
        public let deadLetters = Atomic<Int>(0)
        /// Where the cursor is (the next sequence number to send).
        public let position = Atomic<UInt64>(0)
    }

    public let sink: Sink
    public let statistics = Statistics()
    private let store: DataStore
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)

    public init(store: DataStore, sink: Sink, logger: Logger) {
        self.store = store
        self.sink = sink
        self.logger = logger
    }

    public func run() async throws {
        let workers = start()
        try? await gracefulShutdown()
        stop(workers)
    }

    /// Replays until the cursor reaches `end` (a durable position), then returns: `wick replay` of
    /// a copied data directory.
    public func runUntil(_ end: UInt64) async throws {
        let workers = start()
        while !workers.isEmpty && statistics.position.load(ordering: .relaxed) < end {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        stop(workers)
    }

    private func start() -> [WorkerThread] {
        guard let target = sink.target else {
            logger.error("replay.bad-url", metadata: ["url": "\(sink.url)", "hint": "http://HOST:PORT; https is not supported yet"])
            return []
        }
        let start: UInt64
        do {
            if let saved = try store.cursor(sink.cursor) {
                start = saved
            } else {
                // Claim the log from its start, so that compaction keeps raw segments until they are sent.
                start = 0
                try store.setCursor(sink.cursor, to: 0)
            }
        } catch {
            logger.error("replay.cursor-failed", metadata: ["error": "\(error)"])
            return []
        }
        statistics.position.store(start, ordering: .relaxed)
        let shared = Shared(reader: store.events.reader(), start: start)
        return (0..<max(1, sink.concurrency)).map { _ in
            WorkerThread(name: "wick-replay") { [self] in work(shared, target: target) }
        }
    }

    private func stop(_ workers: [WorkerThread]) {
        stopping.store(true, ordering: .relaxed)
        for worker in workers { worker.join() }
    }

    /// What the workers share: the log reader (one at a time) and the batches in flight, so that
    /// the cursor moves over accepted batches in log order only.
    private final class Shared: @unchecked Sendable {
        private let lock = Mutex<Void>(())
        private let reader: LogReader
        private var nextRead: UInt64
        private var inFlight: [(start: UInt64, end: UInt64, done: Bool)] = []
        private var committed: UInt64

        init(reader: LogReader, start: UInt64) {
            self.reader = reader
            nextRead = start
            committed = start
        }

        /// The next batch to send and the log range it covers; nil when nothing durable is unread.
        func take(until durable: UInt64, events: Int, bytes: Int) throws -> (Batch, UInt64, UInt64)? {
            try lock.withLock { _ in
                guard nextRead < durable else { return nil }
                var batch = Batch()
                let start = nextRead
                var end = start
                let next = try reader.read(from: start, until: durable, maxRecords: events) { sequence, record in
                    guard batch.payloadBytes < bytes || batch.count == 0 else { return }
                    if record.kind == .rawEvent { batch.add(record.payload) }
                    end = sequence + 1
                }
                // Records past the byte limit were read but not taken: the next batch starts at them.
                if batch.payloadBytes < bytes { end = next }
                nextRead = end
                inFlight.append((start, end, false))
                return (batch, start, end)
            }
        }

        /// Marks a batch accepted; the new cursor when it moved.
        func done(_ start: UInt64) -> UInt64? {
            lock.withLock { _ in
                if let index = inFlight.firstIndex(where: { $0.start == start }) { inFlight[index].done = true }
                var moved = false
                while let first = inFlight.first, first.done {
                    committed = first.end
                    inFlight.removeFirst()
                    moved = true
                }
                return moved ? committed : nil
            }
        }
    }

    private func work(_ shared: Shared, target: (address: String, prefix: String)) {
        while !stopping.load(ordering: .relaxed) {
            let taken: (Batch, UInt64, UInt64)?
            do {
                taken = try shared.take(until: store.events.durableSequence, events: sink.batchEvents, bytes: sink.batchBytes)
            } catch {
                logger.error("replay.read-failed", metadata: ["error": "\(error)"])
                pause(milliseconds: 1000)
                continue
            }
            guard let (batch, start, _) = taken else {
                pause(milliseconds: 20)
                continue
            }
            var failures = 0
            while !stopping.load(ordering: .relaxed) {
                switch batch.count == 0 ? .accepted([]) : send(batch, to: target) {
                case .accepted(let rejected):
                    for (payload, reason) in rejected { deadLetter(payload, reason) }
                    statistics.events.add(batch.count, ordering: .relaxed)
                    statistics.batches.add(1, ordering: .relaxed)
                    if let cursor = shared.done(start) {
                        do {
                            try store.setCursor(sink.cursor, to: cursor)
                        } catch {
                            logger.error("replay.cursor-failed", metadata: ["error": "\(error)"])
                        }
                        statistics.position.store(cursor, ordering: .relaxed)
                    }
                    failures = -1
                case .retry(let why):
                    failures += 1
                    statistics.retries.add(1, ordering: .relaxed)
                    let ceiling = min(sink.backoffMaxMilliseconds, sink.backoffInitialMilliseconds << min(failures - 1, 20))
                    let delay = Int64(Double(ceiling) * Double.random(in: 0.5...1.0))
                    if failures == 1 || failures % 10 == 0 {
                        logger.warning("replay.retrying", metadata: ["sink": "\(sink.name)", "error": "\(why)", "in.ms": "\(delay)"])
                    }
                    pause(milliseconds: delay)
                }
                if failures < 0 { break }
            }
        }
    }

    private enum Outcome {
        /// The receiver took the batch; these events it refused for good, with its reason.
        case accepted([(ArraySlice<UInt8>, String)])
        case retry(String)
    }

    private func send(_ batch: Batch, to target: (address: String, prefix: String)) -> Outcome {
        let body = batch.body
        var wire = body
        var headers = [("Authorization", PlainHTTP.basicAuthorization(sink.publicKey, sink.secretKey)),
                       ("Content-Type", "application/json"), ("User-Agent", "wick-replay")]
        if sink.gzip, let compressed = PlainHTTP.gzip(body) {
            wire = compressed
            headers.append(("Content-Encoding", "gzip"))
        }
        let response: PlainHTTP.Response
        do {
            response = try PlainHTTP.request(target.address, method: "POST", path: target.prefix + "/api/public/ingestion",
                                             headers: headers, body: wire, timeoutSeconds: sink.timeoutSeconds)
        } catch {
            return .retry(error.description)
        }
        statistics.rawBytes.add(batch.payloadBytes, ordering: .relaxed)
        statistics.wireBytes.add(wire.count, ordering: .relaxed)
        guard response.status == 207 || response.status == 200 || response.status == 201 else {
            return .retry("HTTP \(response.status): \(response.body.prefix(200))")
        }
        guard let answer = try? JSONValue.parse(response.body) else { return .accepted([]) }
        var refused: [(ArraySlice<UInt8>, String)] = []
        for error in answer["errors"]?.arrayValue ?? [] {
            let status = error["status"]?.numberValue?.int64Value ?? 500
            if status == 429 || status >= 500 { return .retry("event \(error["id"]?.stringValue ?? "?"): HTTP \(status)") }
            let reason = [error["error"]?.stringValue, error["message"]?.stringValue].compactMap { $0 }.joined(separator: ": ")
            if let id = error["id"]?.stringValue, let payload = batch.payload(id: id) { refused.append((payload, reason)) }
        }
        return .accepted(refused)
    }

    private func deadLetter(_ payload: ArraySlice<UInt8>, _ reason: String) {
        var rejects = RecordBatch()
        payload.withUnsafeBytes { bytes in
            DeadLetter.append(bytes, reason: "replay_rejected", detail: "\(sink.name): \(reason)", source: "replay",
                              receiveTime: store.events.configuration.clock.microseconds(), project: UnsafeRawBufferPointer(start: nil, count: 0),
                              originalLength: bytes.count, into: &rejects)
        }
        store.deadLetters.append(rejects, completion: nil)
        statistics.deadLetters.add(1, ordering: .relaxed)
    }

    private func pause(milliseconds: Int64) {
        var left = milliseconds
        while left > 0 && !stopping.load(ordering: .relaxed) {
            let step = min(left, 50)
            usleep(UInt32(step * 1000))
            left -= step
        }
    }
}

/// The events of one batch: payloads back to back, and where each starts.
private struct Batch {
    var bytes: [UInt8] = []
    var starts: [Int] = []

    var count: Int { starts.count }
    var payloadBytes: Int { bytes.count }

    mutating func add(_ payload: UnsafeRawBufferPointer) {
        starts.append(bytes.count)
        bytes.append(contentsOf: payload)
    }

    func payload(_ index: Int) -> ArraySlice<UInt8> {
        bytes[starts[index]..<(index + 1 < starts.count ? starts[index + 1] : bytes.count)]
    }

    /// The event whose envelope id is `id`.
    func payload(id: String) -> ArraySlice<UInt8>? {
        for index in starts.indices {
            let slice = payload(index)
            let found: Bool = slice.withUnsafeBytes { raw in
                guard case .event(let fields)? = try? JSONScanner().scan(raw), let field = fields.id else { return false }
                return field.kind == .string && field.string(in: raw) == id
            }
            if found { return slice }
        }
        return nil
    }

    var body: [UInt8] {
        var out: [UInt8] = Array(#"{"batch":["#.utf8)
        out.reserveCapacity(bytes.count + starts.count + 32)
        for index in starts.indices {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: payload(index))
        }
        out.append(contentsOf: Array(#"],"metadata":{"sdk_name":"wick-replay"}}"#.utf8))
        return out
    }
}

#if canImport(Glibc)
import Glibc
#endif
