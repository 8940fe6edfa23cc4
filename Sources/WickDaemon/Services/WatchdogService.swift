import Logging
import ServiceLifecycle
import Synchronization
import WickStore

#if canImport(Glibc)
import Glibc
#endif

/// Pings systemd's watchdog from proof that the commit loop is alive, not from a bare timer: a
/// wedged writer stops the pings, and systemd restarts the daemon (Fluent Bit #11847's lesson).
struct WatchdogService: Service {
    let store: DataStore
    let notifier: SystemdNotifier
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let half = interval / 2
        // An idle writer turns only once per heartbeat: with a watchdog interval shorter than that,
        // judging it by half the interval would call a healthy idle daemon stalled.
        let heartbeat = Duration.milliseconds(store.events.configuration.heartbeatMilliseconds)
        let window = max(half, heartbeat * 2)
        let staleAfter = UInt64(window.components.seconds) * 1_000_000_000 + UInt64(window.components.attoseconds / 1_000_000_000)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: half)
            let last = store.events.statistics.lastWriterTurn.load(ordering: .relaxed)
            if WatchdogService.monotonicNow() - last <= staleAfter {
                notifier.notify("WATCHDOG=1")
            } else {
                logger.error("watchdog.writer-stalled", metadata: ["seconds": "\((WatchdogService.monotonicNow() - last) / 1_000_000_000)"])
            }
        }
    }

    static func monotonicNow() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
