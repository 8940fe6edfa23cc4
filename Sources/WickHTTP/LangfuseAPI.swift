import CWickLinux
public import WickModel
public import Hummingbird
public import Logging
public import NIOCore
public import WickIngest
import WickJSON
public import WickStore

/// The Langfuse-compatible public API (reference §1, §7): what Langfuse's SDKs call with
/// `LANGFUSE_HOST` pointing here. Ingestion goes through the same checks and the same store as
/// socket events; a 207 is sent once the accepted events are durable.
public enum LangfuseAPI: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Request bodies above this (after gzip) are refused with 413.
        public var maxBodyBytes: Int
        public var version: String

        public init(host: String, port: Int, maxBodyBytes: Int = 16 << 20, version: String) {
            self.host = host
            self.port = port
            self.maxBodyBytes = maxBodyBytes
            self.version = version
        }
    }

    public static func application(
        _ configuration: Configuration, store: DataStore, keys: APIKeys, counters: IngestCounters, maxDepth: Int,
        rules: @escaping @Sendable () -> (PriceBook, ScoreConfigs),
        group: any EventLoopGroup, logger: Logger, onBound: @escaping @Sendable (String) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        let table = RouteTable()
        router.add(middleware: MethodNotAllowed(table: table))
        let routes = RecordingRouter(router: router, table: table)
        let api = Endpoints(store: store, keys: keys, counters: counters, processor: LineProcessor(maxDepth: maxDepth),
                            limit: configuration.maxBodyBytes, logger: logger)
        let version = configuration.version
        routes.get("/api/public/health") { _, _ -> Response in
            json(.ok, .object(["status": "OK", "version": .string(version)]))
        }
        routes.get("/api/public/projects") { request, _ -> Response in
            await api.respond {
                let project = try api.project(request)
                // Langfuse's projects belong to an organization; a Wick's keys name projects only.
                let organization: JSONValue = .object(["id": "wick", "name": "wick"])
                return json(.ok, .object(["data": .array([.object(["id": .string(project), "name": .string(project),
                                                                    "organization": organization, "metadata": .object([:])])])]))
            }
        }
        routes.post("/api/public/ingestion") { request, _ -> Response in
            await api.respond {
                let project = try api.project(request)
                let ingestion = try api.check(try await api.body(request), project: project)
                try await api.persist(ingestion)
                return json(HTTPResponse.Status(code: 207, reasonPhrase: "Multi-Status"), ingestion.responseJSON)
            }
        }
        routes.post("/api/public/scores") { request, _ -> Response in
            await api.respond {
                let project = try api.project(request, allowingBearer: true)
                let scores: ScoreRequest
                switch ScoreRequest.parse(try await api.body(request), now: store.events.configuration.clock.microseconds()) {
                case .success(let parsed): scores = parsed
                case .failure(let invalid): throw ResponseFailure(json(.badRequest, .object(["message": .string(invalid.message)])))
                }
                let ingestion = try api.check(scores.batch, project: project)
                if scores.many {
                    try await api.persist(ingestion)
                    guard ingestion.results.contains(where: { $0.status >= 300 }) else {
                        return json(.accepted, .object(["message": "Accepted"]))
                    }
                    return json(HTTPResponse.Status(code: 207, reasonPhrase: "Multi-Status"), scores.batchResponse(ingestion.results))
                }
                // One score is all or nothing: failing its checks fails the request.
                if let failed = ingestion.results.first(where: { $0.status >= 300 }) {
                    throw ResponseFailure(json(.badRequest, .object(["message": .string(failed.message ?? "invalid score"),
                                                                     "error": .string(failed.reason ?? "")])))
                }
                try await api.persist(ingestion)
                return json(.ok, .object(["id": .string(scores.ids[0])]))
            }
        }
        routes.get("/api/public/traces/:traceId") { request, context -> Response in
            await api.respond {
                let project = try api.project(request)
                let id = context.parameters.get("traceId") ?? ""
                guard let trace = try await LangfuseReads.trace(id, project: project, store: store, rules: rules) else {
                    return json(.notFound, .object(["error": "LangfuseNotFoundError", "message": .string("Trace \(id) not found")]))
                }
                return json(.ok, trace)
            }
        }
        routes.get("/api/public/traces") { request, _ -> Response in
            await api.respond {
                let project = try api.project(request)
                switch try await LangfuseReads.traces(parameters(request), project: project, store: store, rules: rules) {
                case .success(let page): return json(.ok, page)
                case .failure(let invalid): return json(.badRequest, .object(["message": .string(invalid.message)]))
                }
            }
        }
        routes.get("/api/public/metrics/daily") { request, _ -> Response in
            await api.respond {
                let project = try api.project(request)
                switch try await LangfuseReads.dailyMetrics(parameters(request), project: project, store: store) {
                case .success(let days): return json(.ok, days)
                case .failure(let invalid): return json(.badRequest, .object(["message": .string(invalid.message)]))
                }
            }
        }
        routes.get("/api/public/sessions") { request, _ -> Response in
            await api.respond {
                let project = try api.project(request)
                switch try await LangfuseReads.sessions(parameters(request), id: nil, project: project, store: store, rules: rules) {
                case .success(let page): return json(.ok, page ?? .null)
                case .failure(let invalid): return json(.badRequest, .object(["message": .string(invalid.message)]))
                }
            }
        }
        routes.get("/api/public/sessions/:sessionId") { request, context -> Response in
            await api.respond {
                let project = try api.project(request)
                let id = context.parameters.get("sessionId") ?? ""
                switch try await LangfuseReads.sessions([:], id: id, project: project, store: store, rules: rules) {
                case .success(let session?): return json(.ok, session)
                case .success(nil): return json(.notFound, .object(["error": "LangfuseNotFoundError", "message": .string("Session \(id) not found")]))
                case .failure(let invalid): return json(.badRequest, .object(["message": .string(invalid.message)]))
                }
            }
        }
        for (path, kind) in [("/api/public/observations", "observations"), ("/api/public/v2/scores", "scores")] {
            routes.get(path) { request, _ -> Response in
                await api.respond {
                    let project = try api.project(request)
                    switch try await LangfuseReads.entities(kind, parameters(request), project: project, store: store, rules: rules) {
                    case .success(let page): return json(.ok, page ?? .null)
                    case .failure(let invalid): return json(.badRequest, .object(["message": .string(invalid.message)]))
                    }
                }
            }
            routes.get(path + "/:id") { request, context -> Response in
                await api.respond {
                    let project = try api.project(request)
                    let id = context.parameters.get("id") ?? ""
                    switch try await LangfuseReads.entities(kind, [:], id: id, project: project, store: store, rules: rules) {
                    case .success(let entity?): return json(.ok, entity)
                    case .success(nil):
                        return json(.notFound, .object(["error": "LangfuseNotFoundError", "message": .string("\(kind) \(id) not found")]))
                    case .failure(let invalid): return json(.badRequest, .object(["message": .string(invalid.message)]))
                    }
                }
            }
        }
        OTLPEndpoint.addRoutes(to: router, api: api, store: store)
        return HTTPServer.makeApplication(router: router, host: configuration.host, port: configuration.port, group: group,
                                          logger: logger, onBound: onBound)
    }

    /// What every endpoint does the same way: auth, reading the body, checking events, storing them.
    struct Endpoints: Sendable {
        let store: DataStore
        let keys: APIKeys
        let counters: IngestCounters
        let processor: LineProcessor
        let limit: Int
        let logger: Logger

        /// Runs a handler; a `ResponseFailure` it throws is its answer, anything else a 500.
        func respond(_ handler: () async throws -> Response) async -> Response {
            do {
                return try await handler()
            } catch let failure as ResponseFailure {
                return failure.response
            } catch {
                logger.error("http.failed", metadata: ["error": "\(error)"])
                return json(.internalServerError, .object(["message": .string("\(error)")]))
            }
        }

        /// The project of the request's key, or a 401.
        func project(_ request: Request, allowingBearer: Bool = false) throws(ResponseFailure) -> String {
            let header = request.headers[.authorization]
            switch allowingBearer ? keys.project(allowingBearer: header) : keys.project(authorization: header) {
            case .success(let project): return project
            case .failure(let failure): throw ResponseFailure(json(.unauthorized, .object(["message": .string(failure.message)])))
            }
        }

        func body(_ request: Request) async throws(ResponseFailure) -> [UInt8] {
            try await readBody(request, limit: limit).get()
        }

        /// A batch checked event by event; what it rejects goes to the dead-letter log now.
        func check(_ body: [UInt8], project: String, source: IngestSource = .http) throws(ResponseFailure) -> IngestionRequest {
            let ingestion: IngestionRequest
            do {
                ingestion = try body.withUnsafeBytes { (raw) throws(IngestionRequest.Invalid) -> IngestionRequest in
                    try IngestionRequest(body: raw, project: project, receiveTime: store.events.configuration.clock.microseconds(),
                                         processor: processor, counters: counters, source: source)
                }
            } catch let invalid as IngestionRequest.Invalid {
                throw ResponseFailure(json(.badRequest, .object(["message": .string(invalid.message)])))
            } catch {
                throw ResponseFailure(json(.badRequest, .object(["message": .string("\(error)")])))
            }
            if !ingestion.rejects.isEmpty { store.deadLetters.append(ingestion.rejects, completion: nil) }
            return ingestion
        }

        /// Stores the accepted events and waits until they are durable.
        func persist(_ ingestion: IngestionRequest) async throws(ResponseFailure) {
            guard !ingestion.events.isEmpty else { return }
            do {
                _ = try await store.events.append(ingestion.events)
            } catch {
                logger.error("http.ingestion-failed", metadata: ["error": "\(error)"])
                throw ResponseFailure(json(.serviceUnavailable, .object(["message": .string("the events could not be stored: \(error)")])))
            }
        }
    }

    /// The query parameters; a repeated one (a list: `environment=a&environment=b`) comma-joined.
    static func parameters(_ request: Request) -> [String: String] {
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            let key = String(key)
            if let earlier = parameters[key] {
                parameters[key] = earlier.isEmpty ? String(value) : value.isEmpty ? earlier : earlier + "," + value
            } else {
                parameters[key] = String(value)
            }
        }
        return parameters
    }

    /// The body, decompressed when it says it is gzip, deflate or zstd; a 413 or 400 response when it cannot be had.
    static func readBody(_ request: Request, limit: Int) async -> Result<[UInt8], ResponseFailure> {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            return .failure(ResponseFailure(json(.contentTooLarge, .object(["message": .string("the request body is larger than \(limit) bytes")]))))
        }
        let bytes = Array(buffer.readableBytesView)
        guard let encoding = request.headers[.contentEncoding]?.lowercased(), encoding != "identity" else { return .success(bytes) }
        let decode: (UnsafePointer<UInt8>?, Int, Int, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, UnsafeMutablePointer<Int>?) -> Int32
        switch encoding {
        case "gzip", "deflate": decode = CWickLinux_gunzip
        case "zstd": decode = CWickLinux_unzstd
        default:
            return .failure(ResponseFailure(json(.unsupportedMediaType, .object(["message": .string("unsupported Content-Encoding \(encoding)")]))))
        }
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        let status = bytes.withUnsafeBufferPointer { decode($0.baseAddress, $0.count, limit, &out, &length) }
        defer { free(out) }
        switch status {
        case 0: return .success(Array(UnsafeBufferPointer(start: out, count: length)))
        case -2: return .failure(ResponseFailure(json(.contentTooLarge, .object(["message": .string("the request body inflates past \(limit) bytes")]))))
        default: return .failure(ResponseFailure(json(.badRequest, .object(["message": .string("the body is not valid \(encoding)")]))))
        }
    }

    struct ResponseFailure: Error {
        let response: Response
        init(_ response: Response) { self.response = response }
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        var buffer = ByteBuffer()
        buffer.writeBytes(value.serialized())
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: buffer))
    }
}

#if canImport(Glibc)
import Glibc
#endif
