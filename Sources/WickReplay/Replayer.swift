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
        public let lastError = Mutex<String?>(nil)
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
        let worker = WorkerThread(name: "wick-replay") { [self] in loop() }
        try? await gracefulShutdown()
        stopping.store(true, ordering: .relaxed)
        worker.join()
    }

    private func loop() {
        guard let target = sink.target else {
            logger.error("replay.bad-url", metadata: ["url": "\(sink.url)", "hint": "http://HOST:PORT; https is not supported yet"])
            return
        }
        var position: UInt64
        do {
            if let saved = try store.cursor(sink.cursor) {
                position = saved
            } else {
                // Claim the log from its start, so that compaction keeps raw segments until they are sent.
                position = 0
                try store.setCursor(sink.cursor, to: 0)
            }
        } catch {
            logger.error("replay.cursor-failed", metadata: ["error": "\(error)"])
            return
        }
        statistics.position.store(position, ordering: .relaxed)
        let reader = store.events.reader()
        var failures = 0
        while !stopping.load(ordering: .relaxed) {
            let durable = store.events.durableSequence
            guard position < durable else {
                pause(milliseconds: 20)
                continue
            }
            var batch = Batch()
            let next: UInt64
            do {
                next = try reader.read(from: position, until: durable, maxRecords: sink.batchEvents) { _, record in
                    guard record.kind == .rawEvent else { return }
                    batch.add(record.payload)
                }
                // A batch ends at the byte limit: the reader hands out whole records, so re-read the rest next time.
            } catch {
                logger.error("replay.read-failed", metadata: ["error": "\(error)"])
                pause(milliseconds: 1000)
                continue
            }
            let end = batch.cut(atBytes: sink.batchBytes).map { position + UInt64($0) } ?? next
            let sent = send(batch, to: target)
            switch sent {
            case .accepted(let rejected):
                failures = 0
                for (payload, reason) in rejected { deadLetter(payload, reason) }
                statistics.events.add(batch.count, ordering: .relaxed)
                statistics.batches.add(1, ordering: .relaxed)
                position = end
                do {
                    try store.setCursor(sink.cursor, to: position)
                } catch {
                    logger.error("replay.cursor-failed", metadata: ["error": "\(error)"])
                }
                statistics.position.store(position, ordering: .relaxed)
            case .retry(let why):
                failures += 1
                statistics.retries.add(1, ordering: .relaxed)
                statistics.lastError.withLock { $0 = why }
                let ceiling = min(sink.backoffMaxMilliseconds, sink.backoffInitialMilliseconds << min(failures - 1, 20))
                let delay = Int64(Double(ceiling) * Double.random(in: 0.5...1.0))
                if failures == 1 || failures % 10 == 0 {
                    logger.warning("replay.retrying", metadata: ["sink": "\(sink.name)", "error": "\(why)", "in.ms": "\(delay)"])
                }
                pause(milliseconds: delay)
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

    /// Drops the events past `limit` bytes (keeping at least one); the number kept, or nil when all fit.
    mutating func cut(atBytes limit: Int) -> Int? {
        guard bytes.count > limit, starts.count > 1 else { return nil }
        var keep = 1
        while keep < starts.count && starts[keep] <= limit { keep += 1 }
        keep = max(1, keep - 1)
        bytes.removeSubrange(starts[keep]...)
        starts.removeSubrange(keep...)
        return keep
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
