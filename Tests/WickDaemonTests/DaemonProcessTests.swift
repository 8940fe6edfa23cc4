import Foundation
import Synchronization
import Testing
import WickDaemon
import WickIngest
import WickJSON
import WickStore
import WickTestSupport

/// `wick serve` as a child process on real sockets, with its listening line parsed.
final class ServeProcess {
    let process = Process()
    let announcement: ListeningAnnouncement

    /// - Parameter logPath: where its stderr goes (nowhere when nil).
    init(dataDirectory: String, arguments: [String] = ["--log-level", "error"], logPath: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: builtExecutable("wick"))
        process.arguments = ["serve", "--data-dir", dataDirectory, "--socket", dataDirectory + "/s", "--udp", "127.0.0.1:0",
                             "--unix-datagram", "off", "--metrics", "127.0.0.1:0"]
            + (arguments.contains("--http") ? [] : ["--http", "127.0.0.1:0"]) + arguments
        let output = Pipe()
        process.standardOutput = output
        if let logPath {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: logPath)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        var line: [UInt8] = []
        let handle = output.fileHandleForReading
        while let byte = try handle.read(upToCount: 1)?.first, byte != 0x0A { line.append(byte) }
        guard let value = try? JSONValue.parse(line), let parsed = ListeningAnnouncement(json: value) else {
            process.terminate()
            throw SetupError("wick serve printed no listening line: \(String(decoding: line, as: UTF8.self))")
        }
        announcement = parsed
    }

    func kill(_ signal: Int32) {
        Glibc.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { kill(SIGKILL) }
    }
}

/// A small realistic corpus with a fixed seed.
func corpus(traces: Int, seed: Int = 11) throws -> [UInt8] {
    try generatedEvents(traces: traces, seed: seed)
}

@Suite(.serialized) struct DaemonProcessTests {
    /// SIGKILL mid-load with acks on: every line acknowledged before the kill is there after restart.
    @Test(arguments: ["interval", "always"])
    func everyAcknowledgedLineSurvivesSigkill(_ fsync: String) async throws {
        let temp = TemporaryDirectory("wkd")
        let data = temp.file("data")
        let input = try corpus(traces: 2000)
        let lines = input.split(separator: 0x0A).map(Array.init)
        let daemon = try ServeProcess(dataDirectory: data, arguments: ["--fsync", fsync, "--log-level", "error"])
        let path = try #require(daemon.announcement.unix)
        let sender = Task.detached {
            try Sender.send(input, options: SendOptions(target: .unixStream(path: path), acknowledged: true, rate: 20_000))
        }
        // Let some of the load through, then kill the daemon without warning.
        #expect(waitUntil(.seconds(20)) { (ActivatedDaemonAccess.accepted(daemon) ?? 0) > 3000 })
        daemon.kill(SIGKILL)
        let summary = try await sender.value
        let acknowledged = summary.acknowledged ?? 0
        #expect(acknowledged > 0, "the kill came before any ack")
        #expect(acknowledged < lines.count, "the kill came after the whole load")

        // Restart: recovery, then everything acknowledged is there, in order, byte for byte.
        let again = try ServeProcess(dataDirectory: data)
        again.kill(SIGTERM)
        var stored: [[UInt8]] = []
        try StoreReader(DataDirectory(data)).eventReader().read(from: 0) { _, record in stored.append(Array(record.payload)) }
        #expect(stored.count >= acknowledged)
        #expect(Array(stored.prefix(acknowledged)) == Array(lines.prefix(acknowledged)))
        #expect(try !Verification.make(StoreReader(DataDirectory(data))).isDamaged)
    }

    @Test func sigtermDrainsAndExitsCleanly() async throws {
        let temp = TemporaryDirectory("wkd")
        let data = temp.file("data")
        let daemon = try ServeProcess(dataDirectory: data)
        let input = try corpus(traces: 100)
        let summary = try Sender.send(input, options: SendOptions(target: .unixStream(path: try #require(daemon.announcement.unix))))
        daemon.kill(SIGTERM)
        #expect(daemon.process.terminationReason == .exit)
        #expect(daemon.process.terminationStatus == 0)
        var stored = 0
        try StoreReader(DataDirectory(data)).eventReader().read(from: 0) { _, _ in stored += 1 }
        #expect(stored == summary.lines, "fire-and-forget lines read before SIGTERM are all kept")
        #expect(!FileManager.default.fileExists(atPath: data + "/runtime.json"))
    }
}

extension DaemonProcessTests {
    @Test func sighupReloadsTheLogLevel() throws {
        let temp = TemporaryDirectory("wkd")
        let config = temp.file("wick.yaml")
        let log = temp.file("stderr")
        try "log:\n  level: error\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try ServeProcess(dataDirectory: temp.file("data"), arguments: ["--config", config], logPath: log)
        try "log:\n  level: info\nstorage:\n  fsync: always\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        // At level error nothing of this would show; once reloaded to info, the reload says so, and
        // names what needs a restart.
        #expect(waitUntil(.seconds(10)) { fileText(log).contains("config.reloaded") })
        #expect(fileText(log).contains("config.reload-needs-restart"))
        daemon.kill(SIGTERM)
        #expect(daemon.process.terminationStatus == 0)
    }
}

enum ActivatedDaemonAccess {
    static func metric(_ daemon: ServeProcess, _ name: String) -> Double? {
        guard let metrics = daemon.announcement.metrics, let page = try? MetricsClient.fetch(metrics) else { return nil }
        return MetricsClient.parse(page).first { $0.name == name }?.value
    }

    static func accepted(_ daemon: ServeProcess) -> Int? {
        guard let metrics = daemon.announcement.metrics, let page = try? MetricsClient.fetch(metrics) else { return nil }
        return MetricsClient.parse(page).first { $0.name == "wick_ingest_events_accepted_total" }.map { Int($0.value) }
    }
}
