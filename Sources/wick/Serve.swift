import ArgumentParser
import Logging
import WickDaemon

#if canImport(Glibc)
import Glibc
#endif

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: listen on a Unix socket, UDP and a Unix datagram socket; store every event.",
        discussion: """
            With no options it runs on embedded defaults (config/wick.yaml documents each key). Once \
            everything listens it prints one JSON line saying where, and writes it to <data-dir>/runtime.json. \
            Ports may be 0: the line says which were picked. SIGTERM or SIGINT drain and stop it; SIGHUP \
            reloads the log level and retention.
            """
    )

    @Option(help: "A YAML configuration file (keys as in config/wick.yaml).") var config: String?
    @Option(help: "The data directory.") var dataDir: String?
    @Option(help: "The Unix stream socket path.") var socket: String?
    @Option(help: "The UDP address, HOST:PORT, or off.") var udp: String?
    @Option(name: .customLong("unix-datagram"), help: "The Unix datagram socket path, or off.") var unixDatagram: String?
    @Option(help: "The metrics HTTP address, HOST:PORT, or off.") var metrics: String?
    @Option(help: "The Langfuse-compatible API, HOST:PORT, or off (default 127.0.0.1:3000).") var http: String?
    @Option(help: "The project events from every listener belong to.") var project: String?
    @Option(help: "The fsync policy: always, interval or never.") var fsync: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel: String?

    func run() async throws {
        var flags: [String: String] = [:]
        flags["data-dir"] = dataDir
        flags["ingest.unix.path"] = socket
        flags["ingest.udp.address"] = udp
        flags["ingest.unix-datagram.path"] = unixDatagram
        flags["metrics.address"] = metrics
        flags["http.address"] = http
        flags["ingest.project"] = project
        flags["storage.fsync"] = fsync
        flags["log.level"] = logLevel
        let environment = ProcessEnvironment.current
        let configuration: WickConfiguration
        do {
            configuration = try await WickConfiguration.load(file: config, flags: flags, environment: environment)
        } catch {
            printError("wick serve: \(error)")
            throw ExitCode(2)
        }
        let level = SharedLogLevel(Logger.Level(rawValue: configuration.logLevel) ?? .info)
        let journal = environment["JOURNAL_STREAM"] != nil
        LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, level: level, journal: journal) }
        let logger = Logger(label: "wick")
        let daemon: Daemon
        do {
            daemon = try await Daemon.build(
                Daemon.Options(configuration: configuration, environment: environment, configFile: config, flags: flags,
                               logLevel: level),
                logger: logger)
        } catch {
            printError("wick serve: \(error)")
            throw ExitCode(1)
        }
        try await daemon.run { announcement in
            printNow(announcement.line)
        }
    }
}

/// A line on stdout, written at once (write(2), not print): stdout may be a pipe another process
/// reads line by line.
func printNow(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
}

func printError(_ message: String, newline: Bool = true) {
    var bytes = Array((message + (newline ? "\n" : "")).utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
