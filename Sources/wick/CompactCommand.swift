import ArgumentParser
import Logging
import WickDaemon
import WickJSON
import WickPipeline
import WickStore

#if canImport(Glibc)
import Glibc
#endif

struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Compact now: settled raw segments become one priced, scored document per trace.",
        discussion: """
            The daemon compacts by itself every compaction.interval-ms; this runs a compaction now. With \
            a daemon running on the data directory, it asks the daemon (through its HTTP address); \
            without one, it opens the data directory itself. Only segments the assembler has passed are \
            compacted; raw segments are deleted once every cursor has passed them.
            """)

    @Flag(help: "Print the summary as JSON.") var json = false
    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var prices: PriceOptions

    func run() async throws {
        let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
        let report: Compactor.Report
        do {
            if let running = RuntimeInfo.announcement(of: directory) {
                report = try Self.askDaemon(running, directory)
            } else {
                report = try await compactHere(directory)
            }
        } catch let error as StorageError where error.code == .locked {
            printError("wick compact: \(error.message)")
            throw ExitCode(2)
        } catch {
            printError("wick compact: \(error)")
            throw ExitCode(1)
        }
        if json {
            print(String(decoding: report.json.serialized(), as: UTF8.self))
        } else {
            print(report.text)
        }
    }

    static func askDaemon(_ running: ListeningAnnouncement, _ directory: DataDirectory) throws -> Compactor.Report {
        guard let address = running.metrics else {
            throw ValidationError("the daemon runs without its HTTP server; it compacts by itself every compaction.interval-ms")
        }
        guard let token = AdminToken.read(directory) else {
            throw ValidationError("cannot read \(directory.adminTokenPath): run as the daemon's user")
        }
        let response = try MetricsClient.request(address, method: "POST", path: "/wick/compact",
                                                 headers: [("Authorization", "Bearer " + token)], timeoutSeconds: 3600)
        guard response.status == 200 else {
            throw ValidationError("the daemon answered HTTP \(response.status): \(response.body.prefix(300))")
        }
        let body = response.body
        guard let parsed = try? JSONValue.parse(body), let report = Compactor.Report(json: parsed) else {
            throw ValidationError("the daemon answered with no compaction report: \(body.prefix(200))")
        }
        return report
    }

    private func compactHere(_ directory: DataDirectory) async throws -> Compactor.Report {
        guard directory.exists else { throw StorageError(code: .notFound, message: "no data directory at \(directory.root)") }
        let configuration = try await prices.configuration()
        let logger = Logger(label: "wick.compact", factory: { _ in SwiftLogNoOpLogHandler() })
        let store = try DataStore.open(directory, configuration: configuration.store, logger: logger)
        defer { store.close() }
        let compactor = Compactor(store: store, configuration: configuration.compactor, prices: try configuration.loadPrices(),
                                  scoreConfigs: try configuration.loadScoreConfigs(), logger: logger)
        let bar = isatty(2) != 0 && !json ? ProgressBar() : nil
        let killAt = Self.testKillStep()
        let report = try compactor.compactReady(progress: { bar?.show($0) }, step: { step in
            if step == killAt { kill(getpid(), SIGKILL) }
        })
        bar?.finish()
        try store.releaseCompactedNow()
        return report
    }

    /// Debug builds only: the crash test names a publishing step at which the process kills itself.
    static func testKillStep() -> CompactionStep? {
        #if DEBUG
        return ProcessEnvironment.current["WICK_TEST_COMPACT_KILL_AT"].flatMap(CompactionStep.init(rawValue:))
        #else
        return nil
        #endif
    }
}

/// A one-line progress bar on standard error, redrawn in place.
final class ProgressBar {
    private var lastDrawn = ""

    func show(_ progress: Compactor.Progress) {
        let fraction = progress.bytesTotal > 0 ? Double(progress.bytesDone) / Double(progress.bytesTotal) : 1
        show(fraction: fraction, "\(progress.segmentsDone)/\(progress.segmentsTotal) segments, "
             + "\(progress.bytesDone >> 20)/\(progress.bytesTotal >> 20) MiB")
    }

    /// The bar at `fraction` (0 to 1), then `text`.
    func show(fraction: Double, _ text: String) {
        let width = 30
        let filled = Int((min(max(fraction, 0), 1) * Double(width)).rounded(.down))
        let line = "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] " + text
        guard line != lastDrawn else { return }
        lastDrawn = line
        printError("\r\u{1B}[2K" + line, newline: false)
    }

    func finish() {
        if !lastDrawn.isEmpty { printError("") }
    }
}
