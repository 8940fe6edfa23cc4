import Logging
import ServiceLifecycle
import UnixSignals
import WickModel
import WickPipeline
import WickStore

/// SIGHUP: reads the configuration again and applies what can change while running: the log level,
/// the retention policies and the price tables. Other changed keys are logged as needing a restart.
struct ReloadService: Service {
    let daemon: Daemon

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            await reload()
        }
    }

    private func reload() async {
        let options = daemon.options
        let logger = daemon.logger
        // systemd 252 has no Type=notify-reload, but `systemctl reload` still waits for READY=1 after
        // RELOADING=1 when the daemon sends them.
        let notifier = SystemdNotifier(environment: options.environment)
        notifier.notify("RELOADING=1")
        defer { notifier.notify("READY=1") }
        do {
            let fresh = try await WickConfiguration.load(file: options.configFile, flags: options.flags,
                                                         environment: options.environment)
            if let level = Logger.Level(rawValue: fresh.logLevel), let shared = options.logLevel {
                shared.level = level
            }
            daemon.store.setRetention(events: fresh.retention, deadLetters: fresh.deadLetterRetention)
            // Price files are read again even when their names did not change: their contents may have.
            let prices = try fresh.loadPrices()
            let scoreConfigs = try fresh.loadScoreConfigs()
            daemon.assembler.prices = prices
            daemon.assembler.scoreConfigs = scoreConfigs
            daemon.compactor.prices = prices
            daemon.compactor.scoreConfigs = scoreConfigs
            var live = options.configuration
            live.priceFiles = fresh.priceFiles
            live.priceDefaults = fresh.priceDefaults
            live.scoreConfigsFile = fresh.scoreConfigsFile
            live.logLevel = fresh.logLevel
            live.retentionMaxBytes = fresh.retentionMaxBytes
            live.retentionMaxAgeMilliseconds = fresh.retentionMaxAgeMilliseconds
            live.deadLetterMaxBytes = fresh.deadLetterMaxBytes
            if live != fresh {
                logger.warning("config.reload-needs-restart", metadata: ["hint": "only log.level, retention.*, prices.* and scores.* change without a restart"])
            }
            logger.notice("config.reloaded", metadata: ["log.level": "\(fresh.logLevel)", "price-entries": "\(prices.entries.count)",
                                                        "score-configs": "\(scoreConfigs.byID.count)"])
        } catch {
            logger.error("config.reload-failed", metadata: ["error": "\(error)"])
        }
    }
}
