public import Hummingbird
public import Logging
public import NIOCore

/// Wick's HTTP server: Prometheus metrics now; the Langfuse-compatible API joins it later.
public enum HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Renders the metrics page (called per scrape).
        public var metrics: @Sendable () -> String
        /// Runs a compaction now and describes it as JSON (`wick compact` beside a running daemon).
        public var compact: (@Sendable () async throws -> String)?

        public init(host: String, port: Int, metrics: @escaping @Sendable () -> String,
                    compact: (@Sendable () async throws -> String)? = nil) {
            self.host = host
            self.port = port
            self.metrics = metrics
            self.compact = compact
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
        if let compact = configuration.compact {
            router.post("/wick/compact") { _, _ -> Response in
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
        router.get("/healthz") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"status\":\"OK\"}")))
        }
        return makeApplication(router: router, host: configuration.host, port: configuration.port, group: group, logger: logger,
                               onBound: onBound)
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
