public import Logging
public import WickModel
import WickJSON
import WickOTLP

/// Where the `otlp` kind reads whole traces: the daemon folds them from its store.
public protocol ReplayTraceSource: Sendable {
    /// The trace as the store holds it now (every event, compacted or not), or nil when it holds
    /// none. Throws when the store cannot be read (the batch is tried again later).
    func trace(_ id: String, project: String) throws -> FoldedTrace?
}

/// The `otlp` kind: OTLP/HTTP protobuf exports (gzip) to a Langfuse server's or a Wick's
/// `/api/public/otel/v1/traces`, or any OpenTelemetry backend's traces endpoint. Spans are not
/// events: a batch names traces, and each is sent whole, as the store folds it when the batch goes
/// (`TraceSpans`), so a trace whose events fall into several batches is sent again as it grows
/// (a receiving Wick folds the unchanged spans once, and the changed ones over the old). Scores,
/// and what has no span form (a trace without observations, SDK logs), go to the receiver's batch
/// ingestion API as they came, when the sink has a `scores-path`; without one they are refused,
/// so they reach the dead-letter log and are counted, not dropped.
public struct OTLPSink: ReplayTransport {
    public struct Configuration: Sendable, Equatable {
        public var url: String
        /// Basic auth when both are set (Langfuse and Wick need it; a bare OTel collector may not).
        public var publicKey: String
        public var secretKey: String
        public var compression: Compression = .gzip
        public var timeoutMilliseconds = 30_000
        public var tracesPath = "/api/public/otel/v1/traces"
        /// Empty: the receiver takes spans only.
        public var scoresPath = "/api/public/ingestion"
        /// Spans per export request.
        public var spansPerRequest = 2000
        /// PEM certificates to trust for https instead of the system's.
        public var caFile: String?

        public init(url: String, publicKey: String = "", secretKey: String = "") {
            self.url = url
            self.publicKey = publicKey
            self.secretKey = secretKey
        }
    }

    public let configuration: Configuration
    let remote: SinkEndpoint
    let traces: (any ReplayTraceSource)?
    let version: String
    let logger: Logger

    public init(_ configuration: Configuration, traces: (any ReplayTraceSource)?, version: String, logger: Logger) {
        self.configuration = configuration
        remote = SinkEndpoint(url: configuration.url, caFile: configuration.caFile)
        self.traces = traces
        self.version = version
        self.logger = logger
    }

    public func prepare(storedCursor: UInt64?) throws -> UInt64 {
        try remote.check()
        guard traces != nil else { throw PlainHTTP.Failure(description: "an otlp sink reads whole traces: it runs in the daemon only") }
        return storedCursor ?? 0
    }

    /// What a batch comes to: the traces it names, and the events that go as they came.
    struct Plan {
        var traces: [(project: String, id: String)] = []
        var raw: [Int] = []
        var traceCreates: [String: [Int]] = [:]
    }

    static func plan(_ batch: ReplayBatch) -> Plan {
        var plan = Plan()
        var seen = Set<String>()
        let scanner = JSONScanner()
        for index in batch.indices {
            let event = batch[index]
            let found: (type: EventType?, trace: String?) = event.payload.withUnsafeBytes { raw in
                guard case .event(let fields)? = try? scanner.scan(raw), let typeField = fields.type else { return (nil, nil) }
                let type = EventType(typeField, in: raw)
                let traceField = type == .traceCreate ? fields.bodyFields.id : fields.bodyFields.traceId
                return (type, traceField.flatMap { $0.kind == .string ? $0.string(in: raw) : nil })
            }
            guard let type = found.type, type != .scoreCreate, type != .sdkLog, let trace = found.trace else {
                plan.raw.append(index)
                continue
            }
            let key = event.project + "\u{0}" + trace
            if type == .traceCreate { plan.traceCreates[key, default: []].append(index) }
            if seen.insert(key).inserted { plan.traces.append((event.project, trace)) }
        }
        return plan
    }

    public func send(_ batch: ReplayBatch) -> ReplayOutcome {
        guard let traces else { return .retry("no trace source") }
        var plan = Self.plan(batch)
        var folded: [FoldedTrace] = []
        for (project, id) in plan.traces {
            let found: FoldedTrace?
            do {
                found = try traces.trace(id, project: project)
            } catch {
                return .retry("reading trace \(id): \(error)")
            }
            guard let trace = found else { continue }
            if trace.observations.isEmpty {
                // No span to carry it: its trace events go as they came.
                plan.raw.append(contentsOf: plan.traceCreates[project + "\u{0}" + id] ?? [])
            } else {
                folded.append(trace)
            }
        }
        var wireBytes = 0
        var start = 0
        while start < folded.count {
            var end = start
            var spans = 0
            while end < folded.count && (spans == 0 || spans + folded[end].observations.count <= configuration.spansPerRequest) {
                spans += folded[end].observations.count
                end += 1
            }
            let export = TraceSpans.export(Array(folded[start..<end]), serviceName: "wick", version: version)
            switch post(path: configuration.tracesPath, body: export.protobuf(), contentType: "application/x-protobuf") {
            case .success(let (bytes, answer)):
                wireBytes += bytes
                // OTLP's partial success names no spans, so nothing can be dead-lettered: say it.
                if let partial = (try? JSONValue.parse(answer))?["partialSuccess"],
                   let rejected = partial["rejectedSpans"]?.numberValue?.int64Value ?? partial["rejectedSpans"]?.stringValue.flatMap({ Int64($0) }),
                   rejected > 0 {
                    logger.warning("replay.otlp-partial-success", metadata: [
                        "rejected_spans": "\(rejected)", "message": "\(partial["errorMessage"]?.stringValue ?? "")",
                    ])
                }
            case .failure(let reason): return .retry(reason.description)
            }
            start = end
        }
        plan.raw.sort()
        guard !plan.raw.isEmpty else { return .delivered(wireBytes: wireBytes) }
        guard !configuration.scoresPath.isEmpty else {
            return .delivered(wireBytes: wireBytes, refused: plan.raw.map {
                ReplayRefusal(index: $0, reason: "otlp_no_span_form: scores, SDK logs and traces without observations have no OTLP form, and the sink has no scores-path")
            })
        }
        var raw = ReplayBatch(range: batch.range)
        for index in plan.raw {
            let event = batch[index]
            raw.append(sequence: event.sequence, receiveTime: event.receiveTime, project: event.project, payload: event.payload)
        }
        switch post(path: configuration.scoresPath, body: LangfuseSink.body(raw), contentType: "application/json") {
        case .failure(let reason): return .retry(reason.description)
        case .success(let (bytes, answer)):
            switch LangfuseSink.outcome(of: answer, for: raw, wireBytes: wireBytes + bytes) {
            case .retry(let reason): return .retry(reason)
            case .delivered(let total, let refused):
                // Positions in the raw sub-batch back to positions in the batch.
                return .delivered(wireBytes: total, refused: refused.map { ReplayRefusal(index: plan.raw[$0.index], reason: $0.reason) })
            }
        }
    }

    private func post(path: String, body: [UInt8],
                      contentType: String) -> Result<(Int, String), PlainHTTP.Failure> {
        let (wire, encoding) = configuration.compression.encode(body)
        var headers = [("Content-Type", contentType), ("User-Agent", "wick-replay")]
        if !configuration.publicKey.isEmpty || !configuration.secretKey.isEmpty {
            headers.append(("Authorization", PlainHTTP.basicAuthorization(configuration.publicKey, configuration.secretKey)))
        }
        if let encoding { headers.append(("Content-Encoding", encoding)) }
        let response: PlainHTTP.Response
        do {
            response = try remote.request(method: "POST", path: path, headers: headers, body: wire,
                                          timeoutMilliseconds: configuration.timeoutMilliseconds)
        } catch {
            return .failure(error)
        }
        guard (200...299).contains(response.status) else {
            return .failure(PlainHTTP.Failure(description: "\(path): HTTP \(response.status): \(response.body.prefix(200))"))
        }
        return .success((wire.count, response.body))
    }
}
