import CWickLinux
import Hummingbird
public import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import UnixSignals
import WickHTTP
import WickJSON
public import WickReplay
public import WickIngest
public import WickPipeline
public import WickStore

#if canImport(Glibc)
import Glibc
#endif

/// The composition root of `wick serve`: opens the store, binds the listeners, and runs every
/// long-lived part as one service group. Shutdown runs in reverse order: stop accepting and drain
/// the connections, then stop the HTTP server, then commit, sync and close the store.
public final class Daemon: Sendable {
    public struct Options: Sendable {
        public var configuration: WickConfiguration
        public var environment: [String: String]
        /// Where the configuration came from, so SIGHUP can read it again.
        public var configFile: String?
        public var flags: [String: String]
        /// Set by the executable: the level its log handler obeys (SIGHUP may change it).
        public var logLevel: SharedLogLevel?

        public init(configuration: WickConfiguration, environment: [String: String], configFile: String? = nil,
                    flags: [String: String] = [:], logLevel: SharedLogLevel? = nil) {
            self.configuration = configuration
            self.environment = environment
            self.configFile = configFile
            self.flags = flags
            self.logLevel = logLevel
        }
    }

    public let options: Options
    public let store: DataStore
    public let counters: IngestCounters
    public let listeners: [BoundListener]
    public let assembler: Assembler
    public let compactor: Compactor
    /// One replayer per configured sink, each with its own cursor, threads and statistics.
    public let replayers: [Replayer]
    /// `wick import` beside the running daemon (`POST /wick/import`).
    public let importer: Importer
    let ingest: IngestServer
    let group: MultiThreadedEventLoopGroup
    let logger: Logger
    let startTime: Int64
    private let metricsAddress = Mutex<String?>(nil)
    private let apiAddress = Mutex<String?>(nil)
    /// Reported by `GET /api/public/health`.
    public static let version = "0.1.0"

    /// Opens the store (recovering it) and binds every listener. Nothing is running yet.
    public static func build(_ options: Options, logger: Logger) async throws -> Daemon {
        let configuration = options.configuration
        CWickLinux_keep_large_allocations(32 << 20)
        let directory = DataDirectory(configuration.dataDirectory)
        let store = try DataStore.open(directory, configuration: configuration.store, logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.ingestThreads)
        let counters = IngestCounters()
        do {
            var ingestConfiguration = IngestServer.Configuration()
            ingestConfiguration.listeners = Self.listeners(configuration, environment: options.environment, logger: logger)
            ingestConfiguration.maxLineBytes = configuration.maxLineBytes
            ingestConfiguration.maxDepth = configuration.maxDepth
            ingestConfiguration.drainTimeoutMilliseconds = configuration.drainTimeoutMilliseconds
            let ingest = IngestServer(configuration: ingestConfiguration, store: store, counters: counters, group: group,
                                      logger: logger)
            let bound = try await ingest.start()
            SocketActivation.clearEnvironment()
            let prices = try configuration.loadPrices()
            let scoreConfigs = try configuration.loadScoreConfigs()
            let assembler = Assembler(store: store, configuration: configuration.assembler, prices: prices,
                                      scoreConfigs: scoreConfigs, logger: logger)
            let compactor = Compactor(store: store, configuration: configuration.compactor, prices: prices,
                                      scoreConfigs: scoreConfigs, logger: logger)
            Self.warnOfOrphanedCursors(store: store, sinks: configuration.sinks, logger: logger)
            return Daemon(options: options, store: store, counters: counters, listeners: bound, ingest: ingest,
                          assembler: assembler, compactor: compactor, group: group, logger: logger)
        } catch {
            store.close()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private init(options: Options, store: DataStore, counters: IngestCounters, listeners: [BoundListener],
                 ingest: IngestServer, assembler: Assembler, compactor: Compactor, group: MultiThreadedEventLoopGroup,
                 logger: Logger) {
        self.compactor = compactor
        replayers = options.configuration.sinks.map {
            Replayer(store: store, sink: $0, logger: logger, traces: StoreTraces(store: store), version: Daemon.version)
        }
        importer = Importer(store: store, counters: counters, maxDepth: options.configuration.maxDepth)
        do {
            // A batch an import was storing when the daemon died: its ids go into the ledger now, so
            // that the cursor holding it back goes too.
            try importer.recoverInterrupted()
        } catch {
            logger.error("import.recovery-failed", metadata: ["error": "\(error)"])
        }
        self.options = options
        self.store = store
        self.counters = counters
        self.listeners = listeners
        self.ingest = ingest
        self.assembler = assembler
        self.group = group
        self.logger = logger
        startTime = ReceiveClock.system.microseconds()
    }

    /// A replay cursor no configured sink owns still holds raw segments back from compaction and
    /// retention (they are deleted only behind every cursor): say so at every start. It is kept,
    /// not dropped, because a sink left out by mistake would otherwise lose what compaction deleted
    /// meanwhile; `wick cursors remove` drops it once the sink is gone for good.
    static func warnOfOrphanedCursors(store: DataStore, sinks: [Replayer.Sink], logger: Logger) {
        let owned = Set(sinks.map(\.cursor))
        for (name, position) in ((try? store.cursors()) ?? [:]).sorted(by: { $0.key < $1.key })
        where name.hasPrefix(Replayer.Sink.cursor("")) && !owned.contains(name) {
            logger.warning("replay.cursor-orphaned", metadata: [
                "cursor": "\(name)", "position": "\(position)",
                "hint": "no configured sink has this name; raw segments from this position are kept for it (wick cursors remove \(name))",
            ])
        }
    }

    /// The listeners the configuration asks for; sockets handed over by systemd take the place of
    /// the configured ones of their kind.
    static func listeners(_ configuration: WickConfiguration, environment: [String: String], logger: Logger) -> [ListenerConfiguration] {
        func project(_ kind: ListenerConfiguration.Kind) -> String {
            switch kind {
            case .unixStream: configuration.resolvedUnixProject
            case .udp: configuration.resolvedUDPProject
            case .unixDatagram: configuration.resolvedUnixDatagramProject
            }
        }
        let inherited = SocketActivation.sockets(environment: environment)
        var result: [ListenerConfiguration] = inherited.map {
            ListenerConfiguration(endpoint: .inherited(descriptor: $0.descriptor, kind: $0.kind), project: project($0.kind),
                                  receiveBufferBytes: $0.receiveBufferRequest(configured: configuration.udpReceiveBufferBytes))
        }
        let kinds = Set(inherited.map(\.kind))
        if !inherited.isEmpty {
            logger.info("systemd.sockets", metadata: ["count": "\(inherited.count)"])
        }
        if !kinds.contains(.unixStream) {
            result.append(ListenerConfiguration(
                endpoint: .unixStream(path: configuration.resolvedUnixSocketPath(environment: environment),
                                      mode: configuration.unixSocketMode,
                                      group: configuration.unixSocketGroup.isEmpty ? nil : configuration.unixSocketGroup),
                project: project(.unixStream)))
        }
        if !kinds.contains(.udp), configuration.udpAddress != "off", let address = HostPort(configuration.udpAddress) {
            result.append(ListenerConfiguration(endpoint: .udp(host: address.host, port: address.port), project: project(.udp),
                                                receiveBufferBytes: configuration.udpReceiveBufferBytes))
        }
        if !kinds.contains(.unixDatagram), let path = configuration.resolvedUnixDatagramPath(environment: environment) {
            result.append(ListenerConfiguration(
                endpoint: .unixDatagram(path: path, mode: configuration.unixSocketMode,
                                        group: configuration.unixSocketGroup.isEmpty ? nil : configuration.unixSocketGroup),
                project: project(.unixDatagram), receiveBufferBytes: configuration.udpReceiveBufferBytes))
        }
        return result
    }

    /// The metrics page, as served on the metrics address.
    public func metricsText() -> String {
        let ports = listeners.filter { $0.kind == .udp }.compactMap { HostPort($0.address)?.port }
        var metrics = DaemonMetrics(store: store, counters: counters, assembler: assembler.statistics, udpPorts: ports,
                             startTime: startTime)
        metrics.compaction = compactor.totals
        metrics.replayers = replayers
        let gate: UInt64 = (try? store.cursor(TraceDocuments.cursor)) ?? 0
        metrics.compactionBacklog = (try? store.compactionBacklog(below: gate)) ?? (0, 0)
        return metrics.render()
    }

    /// Runs until SIGTERM or SIGINT (or until the task is cancelled), then shuts down in order.
    /// `onReady` gets the line describing where the daemon listens, once everything is bound.
    public func run(onReady: @escaping @Sendable (ListeningAnnouncement) -> Void) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        services.append(.init(service: StoreService(store: store)))
        // After the store (so it stops before the store closes), before everything that feeds it.
        services.append(.init(service: assembler))
        if options.configuration.compactionEnabled { services.append(.init(service: compactor)) }
        for replayer in replayers { services.append(.init(service: replayer)) }
        let notifier = SystemdNotifier(environment: options.environment)
        let httpBound = AsyncBarrier()
        if options.configuration.metricsAddress != "off", let address = HostPort(options.configuration.metricsAddress) {
            let http = HTTPServer.application(
                .init(host: address.host, port: address.port, metrics: { [self] in metricsText() },
                      compact: { [self] in try await compactNow() },
                      importBatch: { [self] project, body in try await importNow(project: project, body: body) },
                      adminToken: AdminToken.create(at: store.directory.adminTokenPath, logger: logger)),
                group: group, logger: logger,
                onBound: { [self] bound in
                    metricsAddress.withLock { $0 = bound }
                    httpBound.open()
                })
            services.append(.init(service: http))
        } else {
            httpBound.open()
        }
        if let interval = SystemdNotifier.watchdogInterval(environment: options.environment) {
            services.append(.init(service: WatchdogService(store: store, notifier: notifier, interval: interval, logger: logger)))
        }
        services.append(.init(service: ReloadService(daemon: self)))
        services.append(.init(service: ingest))
        let apiBound = AsyncBarrier()
        if options.configuration.httpAddress != "off", let address = HostPort(options.configuration.httpAddress) {
            let keys = APIKeys(path: store.directory.apiKeysPath, fixed: options.configuration.httpAPIKeys.compactMap(APIKey.init(setting:)))
            let api = LangfuseAPI.application(
                .init(host: address.host, port: address.port, maxBodyBytes: options.configuration.httpMaxBodyBytes,
                      version: Self.version),
                store: store, keys: keys, counters: counters, maxDepth: options.configuration.maxDepth,
                rules: { [assembler] in (assembler.prices, assembler.scoreConfigs) }, group: group,
                logger: logger,
                onBound: { [self] bound in
                    apiAddress.withLock { $0 = bound }
                    apiBound.open()
                })
            // Before the listeners in the group: it stops after them, so requests in flight finish.
            services.insert(.init(service: api), at: services.count - 1)
        } else {
            apiBound.open()
        }
        services.append(.init(service: ReadinessService(daemon: self, notifier: notifier, bound: [httpBound, apiBound],
                                                        onReady: onReady)))
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                      cancellationSignals: [], logger: logger))
        do {
            try await group.run()
        } catch {
            try? await self.group.shutdownGracefully()
            throw error
        }
        try? await self.group.shutdownGracefully()
    }

    /// What `wick serve` prints once it listens, and writes to `<data-dir>/runtime.json`.
    public var announcement: ListeningAnnouncement {
        ListeningAnnouncement(
            pid: Int(getpid()), dataDirectory: store.directory.root,
            unix: listeners.first { $0.kind == .unixStream }?.address,
            udp: listeners.first { $0.kind == .udp }?.address,
            unixDatagram: listeners.first { $0.kind == .unixDatagram }?.address,
            metrics: metricsAddress.withLock { $0 },
            http: apiAddress.withLock { $0 },
            udpReceiveBufferBytes: listeners.first { $0.kind == .udp }?.receiveBufferBytes)
    }
}

/// A one-shot gate tasks can wait on.
final class AsyncBarrier: Sendable {
    private let isOpen = Mutex<Bool>(false)

    func open() {
        isOpen.withLock { $0 = true }
    }

    /// Returns once open, or once the task is cancelled: a server that failed to bind never opens
    /// its barrier, and the service group cancels the waiter so that the daemon stops and says why.
    /// Polled: it waits only while the servers bind, at start.
    func wait() async {
        while !isOpen.withLock({ $0 }) && !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
    }
}

extension Daemon {
    /// Imports one batch of a project's events, off the event loops (`POST /wick/import`, for
    /// `wick import`): answered once they are durable.
    func importNow(project: String, body: [UInt8]) async throws -> String {
        let importer = self.importer
        let box = Mutex<WorkerThread?>(nil)
        let outcome: Importer.Outcome = try await withCheckedThrowingContinuation { continuation in
            let worker = WorkerThread(name: "wick-import") {
                do {
                    continuation.resume(returning: try body.withUnsafeBytes { try importer.importBatch($0, project: project) })
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            box.withLock { $0 = worker }
        }
        box.withLock { $0 }?.join()
        return String(decoding: outcome.json.serialized(), as: UTF8.self)
    }

    /// Runs a compaction now, off the event loops (`POST /wick/compact`, for `wick compact`).
    func compactNow() async throws -> String {
        let compactor = self.compactor
        let box = Mutex<WorkerThread?>(nil)
        let report: Compactor.Report = try await withCheckedThrowingContinuation { continuation in
            let worker = WorkerThread(name: "wick-compact") {
                do {
                    continuation.resume(returning: try compactor.compactReady())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            box.withLock { $0 = worker }
        }
        box.withLock { $0 }?.join()
        return String(decoding: report.json.serialized(), as: UTF8.self)
    }
}
