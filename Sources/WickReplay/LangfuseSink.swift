import WickJSON

/// The `langfuse` kind: Langfuse's batch ingestion API (`POST /api/public/ingestion`), served by
/// another Wick or a Langfuse server. A batch goes as `{"batch":[…]}` of the events as they came,
/// compressed (gzip unless told otherwise), with Basic auth. A 2xx delivers it; the 207's `errors`
/// with a 4xx status are refusals for good, any with 429 or 5xx send the whole batch again (the
/// receiver deduplicates by event id). Network errors, 429 and 5xx answers are retried.
public struct LangfuseSink: ReplayTransport {
    public struct Configuration: Sendable, Equatable {
        /// `http://HOST[:PORT]` or `https://HOST[:PORT]`, plus a path prefix if the server has one.
        public var url: String
        public var publicKey: String
        public var secretKey: String
        public var compression: Compression = .gzip
        /// Longest wait for each send and each read of a request.
        public var timeoutMilliseconds = 30_000
        /// PEM certificates to trust for https instead of the system's.
        public var caFile: String?

        public init(url: String, publicKey: String, secretKey: String) {
            self.url = url
            self.publicKey = publicKey
            self.secretKey = secretKey
        }
    }

    public let configuration: Configuration
    let remote: SinkEndpoint

    public init(_ configuration: Configuration) {
        self.configuration = configuration
        remote = SinkEndpoint(url: configuration.url, caFile: configuration.caFile)
    }

    public func prepare(storedCursor: UInt64?) throws -> UInt64 {
        try remote.check()
        return storedCursor ?? 0
    }

    public func send(_ batch: ReplayBatch) -> ReplayOutcome {
        let (wire, encoding) = configuration.compression.encode(Self.body(batch))
        var headers = [("Authorization", PlainHTTP.basicAuthorization(configuration.publicKey, configuration.secretKey)),
                       ("Content-Type", "application/json"), ("User-Agent", "wick-replay")]
        if let encoding { headers.append(("Content-Encoding", encoding)) }
        let response: PlainHTTP.Response
        do {
            response = try remote.request(method: "POST", path: "/api/public/ingestion", headers: headers, body: wire,
                                          timeoutMilliseconds: configuration.timeoutMilliseconds)
        } catch {
            return .retry(error.description)
        }
        guard (200...299).contains(response.status) else {
            return .retry("HTTP \(response.status): \(response.body.prefix(200))")
        }
        return Self.outcome(of: response.body, for: batch, wireBytes: wire.count)
    }

    /// What a 2xx answer of the batch ingestion API says of `batch`: its 207 `errors` with a 4xx
    /// status are refusals for good, any with 429 or 5xx send the whole batch again (the receiver
    /// deduplicates by event id).
    static func outcome(of answer: String, for batch: ReplayBatch, wireBytes: Int) -> ReplayOutcome {
        guard let answer = try? JSONValue.parse(answer) else { return .delivered(wireBytes: wireBytes) }
        var refused: [ReplayRefusal] = []
        for error in answer["errors"]?.arrayValue ?? [] {
            let status = error["status"]?.numberValue?.int64Value ?? 500
            if status == 429 || status >= 500 { return .retry("event \(error["id"]?.stringValue ?? "?"): HTTP \(status)") }
            let reason = [error["error"]?.stringValue, error["message"]?.stringValue].compactMap { $0 }.joined(separator: ": ")
            if let id = error["id"]?.stringValue, let index = batch.index(ofEventID: id) {
                refused.append(ReplayRefusal(index: index, reason: reason))
            }
        }
        return .delivered(wireBytes: wireBytes, refused: refused)
    }

    /// `{"batch":[…],"metadata":{…}}` of the events as they came.
    static func body(_ batch: ReplayBatch) -> [UInt8] {
        var out: [UInt8] = Array(#"{"batch":["#.utf8)
        out.reserveCapacity(batch.payloadBytes + batch.count + 64)
        for index in batch.indices {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: batch.payload(index))
        }
        out.append(contentsOf: Array(#"],"metadata":{"sdk_name":"wick-replay"}}"#.utf8))
        return out
    }
}

/// How a kind compresses what it sends.
public enum Compression: String, Sendable, Equatable, CaseIterable {
    case none
    case gzip
    /// `Content-Encoding: zstd` (RFC 8878): for a receiving Wick, which takes it on every ingestion
    /// path. About four times cheaper than gzip for the sender, and smaller; a Langfuse server
    /// and OTLP receivers take gzip only.
    case zstd

    /// `body` as this compression sends it, and the `Content-Encoding` to say so (nil: as it is).
    public func encode(_ body: [UInt8]) -> (body: [UInt8], encoding: String?) {
        let compressed: [UInt8]? = switch self {
        case .none: nil
        case .gzip: PlainHTTP.gzip(body)
        case .zstd: PlainHTTP.zstd(body)
        }
        guard let compressed else { return (body, nil) }
        return (compressed, rawValue)
    }
}
