import ArgumentParser
import Logging
import Synchronization
import WickDaemon
import WickJSON
import WickReplay
import WickStore

#if canImport(Glibc)
import Glibc
#endif

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Ship the events of a data directory copied from another host to a central server.",
        discussion: """
            Verifies the directory first (damaged frames are reported, and skipped), then sends its \
            events through Langfuse's batch ingestion API as the daemon's replay does, from the \
            directory's own cursor (replay.<--name>), so an interrupted run resumes where it stopped. \
            Exits once every event was accepted. Keys from --public-key/--secret-key or \
            LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY.
            """)

    @Option(help: "The data directory to ship (not one a daemon is running on).") var from: String
    @Option(help: "The central server, http://HOST[:PORT] or https://HOST[:PORT].") var to: String
    @Option(name: .customLong("public-key"), help: "The central server's public key.") var publicKey: String?
    @Option(name: .customLong("secret-key"), help: "The central server's secret key.") var secretKey: String?
    @Option(name: .customLong("ca-file"), help: "PEM certificates to trust for https instead of the system's.") var caFile: String?
    @Option(help: "The name of this replay's cursor in the directory.") var name: String = "file"
    @Option(help: "How batches are compressed: gzip, zstd (a central Wick takes it; Langfuse's server does not) or none.")
    var compression: String = "gzip"
    @Option(name: .customLong("backoff-max-ms"), help: "Longest wait between tries, milliseconds.") var backoffMax: Int64 = 30_000
    @Flag(help: "Print the summary as JSON.") var json = false

    func run() async throws {
        let environment = ProcessEnvironment.current
        guard let publicKey = publicKey ?? environment["LANGFUSE_PUBLIC_KEY"],
              let secretKey = secretKey ?? environment["LANGFUSE_SECRET_KEY"]
        else { throw ValidationError("give the central server's keys: --public-key/--secret-key or LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY") }
        guard let encoding = Compression(rawValue: compression) else {
            throw ValidationError("--compression takes \(Compression.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var configuration = LangfuseSink.Configuration(url: to, publicKey: publicKey, secretKey: secretKey)
        configuration.compression = encoding
        configuration.caFile = caFile
        // A URL, CA file or certificate that cannot work is said now, not retried for ever; a server
        // that is down is waited for.
        let remote = SinkEndpoint(url: to, caFile: caFile)
        do {
            try remote.check()
        } catch {
            printError("wick replay: \(error.description)")
            throw ExitCode(1)
        }
        do {
            _ = try remote.request(method: "GET", path: "/api/public/health", headers: [], body: [], timeoutMilliseconds: 10_000)
        } catch where error.untrusted {
            printError("wick replay: \(error.description)")
            throw ExitCode(1)
        } catch {
            // Not reachable yet: the replay below retries.
        }
        var sink = Replayer.Sink(name: name, kind: .langfuse(configuration))
        sink.backoffInitialMilliseconds = min(1000, backoffMax)
        sink.backoffMaxMilliseconds = backoffMax
        let directory = DataDirectory(from)
        let damaged: Int
        do {
            let report = try Verification.make(StoreReader(directory))
            damaged = report.segments.flatMap(\.damage).reduce(0) { $0 + $1.frames }
        } catch {
            printError("wick replay: \(error)")
            throw ExitCode(1)
        }
        if damaged > 0 { printError("wick replay: \(damaged) damaged frames are skipped, their records lost (see `wick verify`)") }
        let logger = Logger(label: "wick.replay", factory: { _ in SwiftLogNoOpLogHandler() })
        let store: DataStore
        do {
            store = try DataStore.open(directory, logger: logger)
        } catch {
            printError("wick replay: \(error)")
            throw ExitCode(error.code == .locked ? 2 : 1)
        }
        defer { store.close() }
        let started = ReceiveClock.system.microseconds()
        let replayer = Replayer(store: store, sink: sink, logger: logger)
        let end = store.events.durableSequence
        let statistics = replayer.statistics
        // A progress bar on a terminal, from the replay's own position, while it runs.
        let drawing = isatty(2) != 0 && !json ? Task {
            let bar = ProgressBar()
            while !Task.isCancelled {
                let position = statistics.position.load(ordering: .relaxed)
                bar.show(fraction: end > 0 ? Double(min(position, end)) / Double(end) : 1,
                         "\(statistics.events.load(ordering: .relaxed)) events sent")
                try? await Task.sleep(nanoseconds: 200_000_000)
            }
            bar.finish()
        } : nil
        try await replayer.runUntil(end)
        drawing?.cancel()
        await drawing?.value
        let summary: JSONValue = .object([
            "events": .number(JSONNumber(statistics.events.load(ordering: .relaxed))),
            "compactedEvents": .number(JSONNumber(statistics.compactedEvents.load(ordering: .relaxed))),
            "batches": .number(JSONNumber(statistics.batches.load(ordering: .relaxed))),
            "wireBytes": .number(JSONNumber(statistics.wireBytes.load(ordering: .relaxed))),
            "retries": .number(JSONNumber(statistics.retries.load(ordering: .relaxed))),
            "deadLetters": .number(JSONNumber(statistics.deadLetters.load(ordering: .relaxed))),
            "damagedFrames": .number(JSONNumber(damaged)),
            "seconds": .number(JSONNumber(Double(ReceiveClock.system.microseconds() - started) / 1e6) ?? 0),
        ])
        if json {
            print(String(decoding: summary.serialized(), as: UTF8.self))
        } else {
            print("replayed \(statistics.events.load(ordering: .relaxed)) events in \(statistics.batches.load(ordering: .relaxed)) batches "
                  + "to \(to) (\(statistics.retries.load(ordering: .relaxed)) retries, "
                  + "\(statistics.deadLetters.load(ordering: .relaxed)) refused, kept in the dead-letter log)")
            let compacted = statistics.compactedEvents.load(ordering: .relaxed)
            if compacted > 0 { print("of which \(compacted) were events of compacted traces whose raw events were gone") }
        }
    }
}

