import Foundation
import Testing
import WickDaemon
import WickIngest
import WickJSON
import WickStore
import WickTestSupport

/// Two real daemons on loopback, edge → central, the central killed (SIGKILL) and restarted
/// while the edge replays, and refusing connections for a while: the central ends with every event
/// (at least once by event id, each trace folding to the same summary and cost as on the edge).
@Suite(.serialized) struct ReplayTests {
    /// A TCP port free on loopback now (bound, read, released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, TestSocket.streamType, 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                Glibc.bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw SetupError("cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Event ids in a data directory's log, with how often each appears.
    static func eventIDs(_ data: String) throws -> [String: Int] {
        var ids: [String: Int] = [:]
        let reader = try StoreReader(DataDirectory(data)).eventReader()
        try reader.read(from: 0) { _, record in
            if let value = try? JSONValue.parse(Array(record.payload)), let id = value["id"]?.stringValue { ids[id, default: 0] += 1 }
        }
        return ids
    }

    static func summaries(_ data: String) throws -> [String: JSONValue] {
        let output = try run(builtExecutable("wick"), ["traces", "--json", "--limit", "10000", "--data-dir", data]).output
        var result: [String: JSONValue] = [:]
        for line in output.split(separator: "\n") {
            let value = try JSONValue.parse(String(line))
            if let id = value["id"]?.stringValue { result[id] = value }
        }
        return result
    }

    @Test func theCentralEndsWithEveryEventThoughItDiesAndRefuses() async throws {
        let temp = TemporaryDirectory("wrp")
        let central = temp.file("central")
        let edge = temp.file("edge")
        let port = try Self.freePort()
        let centralArguments = ["--http", "127.0.0.1:\(port)", "--log-level", "error", "--config", temp.file("central.yaml")]
        try "assembler:\n  settle-ms: 200\n".write(toFile: temp.file("central.yaml"), atomically: true, encoding: .utf8)
        var centralDaemon: ServeProcess? = try ServeProcess(dataDirectory: central, arguments: centralArguments)
        let keys = try JSONValue.parse(try run(builtExecutable("wick"), ["keys", "create", "--project", "fleet", "--json",
                                                                         "--data-dir", central]).output)
        try """
            assembler:
              settle-ms: 200
            replay:
              sinks: [central]
            sinks:
              central:
                kind: langfuse
                url: http://127.0.0.1:\(port)
                public-key: \(try #require(keys["publicKey"]?.stringValue))
                secret-key: \(try #require(keys["secretKey"]?.stringValue))
                compression: zstd
                batch-events: 50
                backoff-initial-ms: 20
                backoff-max-ms: 200
            """.write(toFile: temp.file("edge.yaml"), atomically: true, encoding: .utf8)
        let edgeDaemon = try ServeProcess(dataDirectory: edge, arguments: ["--config", temp.file("edge.yaml"), "--log-level", "error"])
        defer { edgeDaemon.kill(SIGTERM) }
        defer { centralDaemon?.kill(SIGTERM) }

        let input = try corpus(traces: 60, seed: 21)
        let lines = input.split(separator: 0x0A, omittingEmptySubsequences: true)
        let part = (lines.count + 3) / 4
        for (round, start) in stride(from: 0, to: lines.count, by: part).enumerated() {
            let chunk = Array(lines[start..<min(start + part, lines.count)].joined(separator: [0x0A])) + [0x0A]
            if round == 1 || round == 3 {
                // Down while events arrive at the edge: its connections are refused until the restart.
                centralDaemon?.kill(SIGKILL)
                centralDaemon = nil
            }
            _ = try Sender.send(chunk, options: SendOptions(target: .unixStream(path: try #require(edgeDaemon.announcement.unix)),
                                                            acknowledged: true))
            if round == 0 || round == 2 {
                // Killed while the edge may be mid-batch.
                try await Task.sleep(nanoseconds: 10_000_000)
                centralDaemon?.kill(SIGKILL)
                centralDaemon = nil
            }
            try await Task.sleep(nanoseconds: 300_000_000)
            if centralDaemon == nil { centralDaemon = try ServeProcess(dataDirectory: central, arguments: centralArguments) }
        }
        let edgeIDs = try Self.eventIDs(edge)
        #expect(edgeIDs.count == lines.count)
        var centralIDs: [String: Int] = [:]
        #expect(waitUntil(.seconds(60)) {
            centralIDs = (try? Self.eventIDs(central)) ?? [:]
            return Set(centralIDs.keys) == Set(edgeIDs.keys)
        })
        // The central's export is exactly once by event id, whatever the replay repeated.
        let exported = try run(builtExecutable("wick"), ["export", "--data-dir", central])
        let exportedIDs = exported.output.split(separator: "\n").compactMap { try? JSONValue.parse(String($0))["id"]?.stringValue }
        #expect(exportedIDs.count == edgeIDs.count && Set(exportedIDs) == Set(edgeIDs.keys))
        let metrics = try #require(edgeDaemon.announcement.metrics)
        let page = try MetricsClient.fetch(metrics)
        let retries = MetricsClient.parse(page).first { $0.name == "wick_replay_retries_total" }?.value ?? 0
        #expect(retries > 0, "the central was down: some batches must have been tried again")
        var stats = ""
        #expect(waitUntil(.seconds(20)) {
            stats = (try? run(builtExecutable("wick"), ["stats", "--data-dir", edge]).output) ?? ""
            return stats.contains("replay to central (langfuse): \(lines.count) events delivered, lag 0 records")
        }, "\(stats)")
        // Resent batches may repeat events in the central's log; folds count each event id once.
        let edgeSummaries = try Self.summaries(edge)
        var centralSummaries: [String: JSONValue] = [:]
        #expect(waitUntil(.seconds(30)) {
            centralSummaries = (try? Self.summaries(central)) ?? [:]
            return centralSummaries.count == edgeSummaries.count
                && centralSummaries.allSatisfy { $0.value["events"] == edgeSummaries[$0.key]?["events"] }
        })
        for (id, summary) in edgeSummaries {
            let other = centralSummaries[id]
            #expect(other?["totalCost"] == summary["totalCost"], "trace \(id)")
            #expect(other?["events"] == summary["events"], "trace \(id)")
            #expect(other?["usage"] == summary["usage"], "trace \(id)")
            #expect(other?["project"]?.stringValue == "fleet")
        }
    }

    /// `wick replay --from DIR --to` the central, with a key pair of the central's in the environment.
    static func replayCommand(from copied: String, to central: ServeProcess, keysIn data: String,
                              project: String) throws -> (arguments: [String], environment: [String: String]) {
        let keys = try JSONValue.parse(try run(builtExecutable("wick"), ["keys", "create", "--project", project, "--json",
                                                                         "--data-dir", data]).output)
        var environment = ProcessInfo.processInfo.environment
        environment["LANGFUSE_PUBLIC_KEY"] = keys["publicKey"]?.stringValue
        environment["LANGFUSE_SECRET_KEY"] = keys["secretKey"]?.stringValue
        return (["replay", "--from", copied, "--to", "http://" + (try #require(central.announcement.http)), "--json"], environment)
    }

    /// A copied directory whose raw segments went after compaction: its compacted traces are sent
    /// as create events, then the raw events past them, and the central folds the same traces.
    @Test func aCompactedDirectoryIsShippedWithItsCompactedTraces() throws {
        let temp = TemporaryDirectory("wrc")
        let copied = try ImportTests.source(temp)
        let central = try ServeProcess(dataDirectory: temp.file("central"), arguments: ["--log-level", "error"])
        defer { central.kill(SIGTERM) }
        let (arguments, environment) = try Self.replayCommand(from: copied, to: central, keysIn: temp.file("central"), project: "default")
        let first = try run(builtExecutable("wick"), arguments, environment: environment)
        #expect(first.termination == .exited(0), "\(first.errors)")
        let summary = try JSONValue.parse(first.output)
        #expect(summary["compactedEvents"]?.numberValue?.int64Value ?? 0 > 0, "\(first.output)")
        #expect(summary["deadLetters"]?.numberValue?.int64Value == 0)

        let summaries = try run(builtExecutable("wick"), ["traces", "--json", "--limit", "1000", "--data-dir", copied]).output
        let ids = summaries.split(separator: "\n").compactMap { line -> String? in
            let summary = try? JSONValue.parse(String(line))
            return summary?["id"]?.stringValue
        }
        #expect(ids.count > 10)
        func trace(_ id: String, _ data: String) throws -> JSONValue {
            try JSONValue.parse(try run(builtExecutable("wick"), ["trace", id, "--json", "--data-dir", data]).output)
        }
        // A dozen of them, by id (each read is two processes).
        for id in ids.sorted().prefix(12) {
            let a = try trace(id, copied)
            let b = try trace(id, temp.file("central"))
            for field in ["name", "userId", "sessionId", "tags", "input", "output", "totalCost"] {
                #expect(a[field] == b[field], "trace \(id) \(field)")
            }
            let left = (a["observations"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
            let right = (b["observations"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
            #expect(Set(left) == Set(right), "trace \(id) observations")
            #expect(a["scores"]?.arrayValue?.count == b["scores"]?.arrayValue?.count, "trace \(id) scores")
        }
        // Resumed: the cursor is past the compacted range, nothing is sent twice.
        let second = try JSONValue.parse(try run(builtExecutable("wick"), arguments, environment: environment).output)
        #expect(second["events"]?.numberValue?.int64Value == 0 && second["compactedEvents"]?.numberValue?.int64Value == 0)
    }

    /// A sink added to a daemon whose raw segments went after compaction: it sends the compacted
    /// traces first, then the raw events past them.
    @Test func aSinkAddedAfterCompactionSendsTheCompactedTraces() throws {
        let temp = TemporaryDirectory("wra")
        let edge = try ImportTests.source(temp)
        let port = try Self.freePort()
        let central = try ServeProcess(dataDirectory: temp.file("central"), arguments: ["--http", "127.0.0.1:\(port)", "--log-level", "error"])
        defer { central.kill(SIGTERM) }
        let keys = try JSONValue.parse(try run(builtExecutable("wick"), ["keys", "create", "--project", "default", "--json",
                                                                         "--data-dir", temp.file("central")]).output)
        try """
            replay:
              url: http://127.0.0.1:\(port)
              public-key: \(try #require(keys["publicKey"]?.stringValue))
              secret-key: \(try #require(keys["secretKey"]?.stringValue))
              backoff-initial-ms: 20
            """.write(toFile: temp.file("replay.yaml"), atomically: true, encoding: .utf8)
        let daemon = try ServeProcess(dataDirectory: edge, arguments: ["--config", temp.file("replay.yaml"), "--log-level", "error"])
        defer { daemon.kill(SIGTERM) }
        var stats = ""
        #expect(waitUntil(.seconds(60)) {
            stats = (try? run(builtExecutable("wick"), ["stats", "--data-dir", edge]).output) ?? ""
            return stats.contains(#/replay to central \(langfuse\): \d+ events delivered, lag 0 records/#)
        }, "\(stats)")
        // Every trace of the edge is at the central, folded the same (a few, by id).
        let summaries = try run(builtExecutable("wick"), ["traces", "--json", "--limit", "1000", "--data-dir", edge]).output
        let ids = summaries.split(separator: "\n").compactMap { try? JSONValue.parse(String($0))["id"]?.stringValue }
        #expect(ids.count > 10, "\(summaries.prefix(500))")
        for id in ids.sorted().prefix(6) {
            let a = try JSONValue.parse(try run(builtExecutable("wick"), ["trace", id, "--json", "--data-dir", edge]).output)
            let b = try JSONValue.parse(try run(builtExecutable("wick"), ["trace", id, "--json", "--data-dir", temp.file("central")]).output)
            #expect(a["name"] == b["name"] && a["totalCost"] == b["totalCost"], "trace \(id)")
            #expect(a["observations"]?.arrayValue?.count == b["observations"]?.arrayValue?.count, "trace \(id)")
        }
    }

    /// `wick replay --from DIR --to URL`: a data directory copied from another host, shipped whole,
    /// and a second run finds nothing left to send.
    @Test func aCopiedDirectoryIsShippedAndTheRunResumes() throws {
        let temp = TemporaryDirectory("wrf")
        let copied = temp.file("copied")
        let source = try ServeProcess(dataDirectory: copied, arguments: ["--log-level", "error"])
        let input = try corpus(traces: 20, seed: 4)
        _ = try Sender.send(input, options: SendOptions(target: .unixStream(path: try #require(source.announcement.unix)), acknowledged: true))
        source.kill(SIGTERM)
        let central = try ServeProcess(dataDirectory: temp.file("central"), arguments: ["--log-level", "error"])
        defer { central.kill(SIGTERM) }
        var (arguments, environment) = try Self.replayCommand(from: copied, to: central, keysIn: temp.file("central"), project: "fleet")
        arguments += ["--compression", "zstd"]
        let first = try run(builtExecutable("wick"), arguments, environment: environment)
        #expect(first.termination == .exited(0), "\(first.errors)")
        let lines = input.split(separator: 0x0A, omittingEmptySubsequences: true).count
        #expect(try JSONValue.parse(first.output)["events"]?.numberValue?.int64Value == Int64(lines))
        #expect(try Self.eventIDs(temp.file("central")).count == lines)
        let second = try run(builtExecutable("wick"), arguments, environment: environment)
        #expect(try JSONValue.parse(second.output)["events"]?.numberValue?.int64Value == 0)
    }
}
