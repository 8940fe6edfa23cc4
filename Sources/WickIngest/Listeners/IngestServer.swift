import CWickLinux
import Synchronization
public import Logging
public import NIOCore
import NIOPosix
public import ServiceLifecycle
public import WickStore

#if canImport(Glibc)
import Glibc
#endif

/// Every listener of the daemon, as one service. `start()` binds them (so `wick serve` can print
/// where it listens before it reports ready); `run()` waits for shutdown, then stops accepting,
/// lets each connection finish what it has read, and returns once they are all closed.
public final class IngestServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var listeners: [ListenerConfiguration] = []
        public var maxLineBytes = 1 << 20
        public var maxDepth = 64
        /// How long shutdown waits for connections to drain.
        public var drainTimeoutMilliseconds: Int64 = 10_000

        public init() {}
    }

    private let configuration: Configuration
    private let context: IngestContext
    private let group: any EventLoopGroup
    private let registry = ConnectionRegistry()
    private let channels = Mutex<[any Channel]>([])
    private let receivers = Mutex<[DatagramReceiver]>([])
    private let logger: Logger

    public init(configuration: Configuration, store: DataStore, counters: IngestCounters, group: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        context = IngestContext(store: store, counters: counters, maxLineBytes: configuration.maxLineBytes,
                                maxDepth: configuration.maxDepth, logger: logger)
    }

    /// Binds every listener; returns where each one listens.
    public func start() async throws -> [BoundListener] {
        var bound: [BoundListener] = []
        for listener in configuration.listeners {
            bound.append(try await bind(listener))
        }
        return bound
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }

    /// Stops accepting, drains connections (bounded by the drain timeout), closes datagram sockets.
    public func stop() async {
        let servers = channels.withLock { channels in
            defer { channels.removeAll() }
            return channels
        }
        for channel in servers { try? await channel.close() }
        let timeout = configuration.drainTimeoutMilliseconds
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.registry.drainAll() }
            group.addTask { try? await Task.sleep(for: .milliseconds(timeout)) }
            await group.next()
            group.cancelAll()
        }
        if registry.count > 0 {
            logger.warning("ingest.drain-timeout", metadata: ["connections": "\(registry.count)"])
        }
        let datagrams = receivers.withLock { receivers in
            defer { receivers.removeAll() }
            return receivers
        }
        for receiver in datagrams { receiver.stop() }
    }

    public var openConnections: Int { registry.count }

    // MARK: - Binding

    private func bind(_ listener: ListenerConfiguration) async throws -> BoundListener {
        let project = Array(listener.project.utf8)
        switch listener.endpoint {
        case .unixStream(let path, let mode, let groupName):
            let channel = try await streamBootstrap(project: project)
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
            try SocketPermissions.apply(path: path, mode: mode, group: groupName)
            return remember(channel, BoundListener(kind: .unixStream, address: path, project: listener.project))
        case .udp(let host, let port):
            return try datagramListener(try DatagramSockets.udp(host: host, port: port), listener, kind: .udp)
        case .unixDatagram(let path, let mode, let groupName):
            let fd = try DatagramSockets.unix(path: path)
            try SocketPermissions.apply(path: path, mode: mode, group: groupName)
            return try datagramListener(fd, listener, kind: .unixDatagram)
        case .inherited(let descriptor, let kind):
            switch kind {
            case .unixStream:
                // systemd hands over a listening socket; listen() again only sets the backlog.
                _ = Glibc.listen(descriptor, 256)
                let channel = try await streamBootstrap(project: project).withBoundSocket(descriptor).get()
                let address = channel.localAddress?.pathname ?? "fd:\(descriptor)"
                return remember(channel, BoundListener(kind: .unixStream, address: address, project: listener.project))
            case .udp, .unixDatagram:
                DatagramSockets.adopt(descriptor)
                return try datagramListener(descriptor, listener, kind: kind)
            }
        }
    }

    /// Unix datagrams may be larger than UDP's 64 KiB; a larger one is rejected as cut.
    static let unixDatagramSlice = 256 << 10

    private func remember(_ channel: any Channel, _ bound: BoundListener) -> BoundListener {
        channels.withLock { $0.append(channel) }
        logger.info("ingest.listening", metadata: ["kind": "\(bound.kind.rawValue)", "address": "\(bound.address)"])
        return bound
    }

    private func streamBootstrap(project: [UInt8]) -> ServerBootstrap {
        let context = self.context
        let registry = self.registry
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 64 * 1024, maximum: 1 << 20))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        StreamIngestHandler(ingest: context, project: project, registry: registry))
                }
            }
    }

    /// Starts a receiver thread on a bound datagram socket.
    private func datagramListener(_ fd: Int32, _ listener: ListenerConfiguration, kind: ListenerConfiguration.Kind) throws -> BoundListener {
        let granted = DatagramSockets.setReceiveBuffer(fd, bytes: listener.receiveBufferBytes)
        let receiver = DatagramReceiver(descriptor: fd, ingest: context, project: Array(listener.project.utf8),
                                        source: kind == .udp ? .udp : .unixDatagram,
                                        sliceBytes: kind == .udp ? 65_536 : Self.unixDatagramSlice)
        receiver.start()
        receivers.withLock { $0.append(receiver) }
        let bound = BoundListener(kind: kind, address: DatagramSockets.localAddress(fd), project: listener.project,
                                  receiveBufferBytes: granted)
        logger.info("ingest.listening", metadata: ["kind": "\(kind.rawValue)", "address": "\(bound.address)"])
        return bound
    }
}

/// chmod and chgrp of a socket file, so that a group of local agents may connect.
enum SocketPermissions {
    static func apply(path: String, mode: UInt32, group: String?) throws {
        if chmod(path, mode_t(mode)) != 0 {
            throw IngestError(message: "chmod \(path): \(String(cString: strerror(errno)))")
        }
        guard let group, !group.isEmpty else { return }
        guard let entry = getgrnam(group) else {
            throw IngestError(message: "no group named \(group) for \(path)")
        }
        if chown(path, uid_t.max, entry.pointee.gr_gid) != 0 {
            throw IngestError(message: "chgrp \(group) \(path): \(String(cString: strerror(errno)))")
        }
    }
}

public struct IngestError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
