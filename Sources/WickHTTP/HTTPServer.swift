public import Hummingbird
public import Logging
public import NIOCore
import WickIngest
import WickJSON

/// Wick's HTTP server: Prometheus metrics now; the Langfuse-compatible API joins it later.
public enum HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Renders the metrics page (called per scrape).
        public var metrics: @Sendable () -> String
        /// Runs a compaction now and describes it as JSON (`wick compact` beside a running daemon).
        public var compact: (@Sendable () async throws -> String)?
        /// Imports one `{"batch":[…]}` of a project's events (`wick import` beside a running
        /// daemon) and describes the outcome as JSON; throws `Importer.Invalid` for a bad body.
        public var importBatch: (@Sendable (_ project: String, _ body: [UInt8]) async throws -> String)?
        /// What `POST /wick/import` and `POST /wick/compact` must present as `Authorization: Bearer …`;
        /// without it those routes are off.
        public var adminToken: String?
        public var maxImportBodyBytes = 64 << 20

        public init(host: String, port: Int, metrics: @escaping @Sendable () -> String,
                    compact: (@Sendable () async throws -> String)? = nil,
                    importBatch: (@Sendable (_ project: String, _ body: [UInt8]) async throws -> String)? = nil,
                    adminToken: String? = nil) {
            self.host = host
            self.port = port
            self.metrics = metrics
            self.compact = compact
            self.importBatch = importBatch
            self.adminToken = adminToken
        }
    }

    /// The application, ready to run as a service; `onBound` learns the real address (port 0 resolved).
    public static func application(
        _ configuration: Configuration,
        group: any EventLoopGroup,
        logger: Logger,
        onBound: @escaping @Sendable (String) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        let metrics = configuration.metrics
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: metrics())))
        }
        // The daemon's own routes act on its data, so they ask for the token only its user can read.
        if let compact = configuration.compact, let token = configuration.adminToken {
            router.post("/wick/compact") { request, _ -> Response in
                guard let presented = request.headers[.authorization], constantTimeEqual(presented, "Bearer " + token) else {
                    return plain(.unauthorized, #"{"error":"POST /wick/compact needs the token in <data-dir>/admin-token"}"#)
                }
                do {
                    let report = try await compact()
                    return Response(status: .ok, headers: [.contentType: "application/json"],
                                    body: ResponseBody(byteBuffer: ByteBuffer(string: report)))
                } catch {
                    return Response(status: .internalServerError, headers: [.contentType: "application/json"],
                                    body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"error\":\"compaction failed: \(error)\"}")))
                }
            }
        }
        if let importBatch = configuration.importBatch, let token = configuration.adminToken {
            let limit = configuration.maxImportBodyBytes
            router.post("/wick/import") { request, _ -> Response in
                guard let presented = request.headers[.authorization], constantTimeEqual(presented, "Bearer " + token) else {
                    return plain(.unauthorized, #"{"error":"POST /wick/import needs the token in <data-dir>/admin-token"}"#)
                }
                guard let project = request.uri.queryParameters["project"].map(String.init), !project.isEmpty else {
                    return plain(.badRequest, #"{"error":"give the events' project: ?project=NAME"}"#)
                }
                let body: [UInt8]
                do {
                    body = Array(try await request.body.collect(upTo: limit).readableBytesView)
                } catch {
                    return plain(.contentTooLarge, #"{"error":"a batch is at most \#(limit) bytes"}"#)
                }
                do {
                    return plain(.ok, try await importBatch(project, body))
                } catch let invalid as Importer.Invalid {
                    return plain(.badRequest, String(decoding: JSONValue.object(["error": .string(invalid.message)]).serialized(), as: UTF8.self))
                } catch {
                    return plain(.internalServerError,
                                 String(decoding: JSONValue.object(["error": .string("import failed: \(error)")]).serialized(), as: UTF8.self))
                }
            }
        }
        router.get("/healthz") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"status\":\"OK\"}")))
        }
        return makeApplication(router: router, host: configuration.host, port: configuration.port, group: group, logger: logger,
                               onBound: onBound)
    }

    static func plain(_ status: HTTPResponse.Status, _ json: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }

    /// A Hummingbird application on `host:port` that tells `onBound` where it really listens.
    static func makeApplication(
        router: Router<BasicRequestContext>, host: String, port: Int, group: any EventLoopGroup, logger: Logger,
        onBound: @escaping @Sendable (String) async -> Void
    ) -> some ApplicationProtocol {
        Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "wick"),
            onServerRunning: { channel in
                let address = channel.localAddress
                await onBound("\(address?.ipAddress ?? host):\(address?.port ?? port)")
            },
            eventLoopGroupProvider: .shared(group),
            logger: logger
        )
    }
}
