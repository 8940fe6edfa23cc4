import Logging
import ServiceLifecycle
import WickIngest
import WickStore

#if canImport(Glibc)
import Glibc
#endif

/// Announces the daemon once everything listens: the JSON line, `<data-dir>/runtime.json`, and
/// READY=1 to systemd. On shutdown it is the first to hear of it and tells systemd STOPPING=1.
struct ReadinessService: Service {
    let daemon: Daemon
    let notifier: SystemdNotifier
    /// Opened once each HTTP server listens (port 0 resolved).
    let bound: [AsyncBarrier]
    let onReady: @Sendable (ListeningAnnouncement) -> Void

    func run() async throws {
        for barrier in bound { await barrier.wait() }
        // Cancelled before everything listened (a server could not bind): nothing to announce.
        guard !Task.isCancelled else { return }
        let announcement = daemon.announcement
        RuntimeFile.write(announcement, to: daemon.store.directory.runtimePath, logger: daemon.logger)
        onReady(announcement)
        notifier.notify("READY=1\nSTATUS=listening on \(daemon.listeners.map(\.address).joined(separator: ", "))\nMAINPID=\(getpid())")
        daemon.logger.notice("daemon.ready", metadata: ["listeners": "\(daemon.listeners.count)"])
        try? await gracefulShutdown()
        // Draining connections and the last commit may outlast TimeoutStopSec on a slow disk: ask for
        // the drain timeout plus time for the final sync.
        let extend = (daemon.options.configuration.drainTimeoutMilliseconds + 30_000) * 1000
        notifier.notify("STOPPING=1\nSTATUS=draining\nEXTEND_TIMEOUT_USEC=\(extend)")
        daemon.logger.notice("daemon.stopping")
        RuntimeFile.remove(daemon.store.directory.runtimePath)
        RuntimeFile.remove(daemon.store.directory.adminTokenPath)
    }
}

/// `<data-dir>/runtime.json`: where the running daemon listens.
enum RuntimeFile {
    static func write(_ announcement: ListeningAnnouncement, to path: String, logger: Logger) {
        let temporary = path + ".tmp"
        let bytes = Array((announcement.line + "\n").utf8)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            logger.warning("runtime-file.unwritable", metadata: ["path": "\(path)"])
            return
        }
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        rename(temporary, path)
    }

    static func remove(_ path: String) {
        unlink(path)
    }
}
