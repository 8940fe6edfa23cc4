import Foundation
import Testing
import WickDaemon
import WickIngest
import WickJSON
import WickReplay
import WickStore
import WickTestSupport

/// Several replay sinks at once, each with its own cursor: a langfuse sink into a second real
/// daemon and a file sink into real files, the edge killed (SIGKILL) while both are at work.
@Suite(.serialized) struct SinkTests {
    /// The edge's events in log order, as NDJSON (what a file sink must hold, byte for byte).
    static func logLines(_ data: String) throws -> [UInt8] {
        var out: [UInt8] = []
        try StoreReader(DataDirectory(data)).eventReader().read(from: 0) { _, record in
            if record.kind == .rawEvent { JSONWriter.appendLine(record.payload, to: &out) }
        }
        return out
    }

    /// Every file a file sink wrote, oldest first: the rotated ones by number, then the current one.
    static func exported(_ path: String) -> (bytes: [UInt8], files: Int) {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let rotated = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix(name + ".") }.sorted()
        var bytes: [UInt8] = []
        for file in rotated + [name] {
            bytes += (FileManager.default.contents(atPath: directory + "/" + file)).map(Array.init) ?? []
        }
        return (bytes, rotated.count + 1)
    }

    @Test func twoSinksEachEndWithEveryEventThoughTheEdgeIsKilled() async throws {
        let temp = TemporaryDirectory("wsk")
        let central = temp.file("central")
        let edge = temp.file("edge")
        // The file sink's path is relative: it lands under the edge's data directory.
        try FileManager.default.createDirectory(atPath: temp.file("edge/export"), withIntermediateDirectories: true)
        let exportPath = temp.file("edge/export/events.ndjson")
        let port = try ReplayTests.freePort()
        let centralDaemon = try ServeProcess(dataDirectory: central, arguments: ["--http", "127.0.0.1:\(port)", "--log-level", "error"])
        defer { centralDaemon.kill(SIGTERM) }
        let keys = try JSONValue.parse(try run(builtExecutable("wick"), ["keys", "create", "--project", "fleet", "--json",
                                                                         "--data-dir", central]).output)
        try """
            assembler:
              settle-ms: 200
            replay:
              sinks: [central, archive]
            sinks:
              central:
                kind: langfuse
                url: http://127.0.0.1:\(port)
                public-key: \(try #require(keys["publicKey"]?.stringValue))
                secret-key: \(try #require(keys["secretKey"]?.stringValue))
                batch-events: 25
                backoff-initial-ms: 20
                backoff-max-ms: 200
              archive:
                kind: file
                path: export/events.ndjson
                rotate-bytes: 150000
                batch-events: 5
                backoff-initial-ms: 20
                backoff-max-ms: 200
            """.write(toFile: temp.file("edge.yaml"), atomically: true, encoding: .utf8)
        let arguments = ["--config", temp.file("edge.yaml"), "--log-level", "error"]
        var edgeDaemon = try ServeProcess(dataDirectory: edge, arguments: arguments)
        defer { edgeDaemon.kill(SIGTERM) }

        let input = try corpus(traces: 90, seed: 33)
        let lines = input.split(separator: 0x0A, omittingEmptySubsequences: true)
        let part = (lines.count + 2) / 3
        var killedMidway = 0
        for (round, start) in stride(from: 0, to: lines.count, by: part).enumerated() {
            let chunk = Array(lines[start..<min(start + part, lines.count)].joined(separator: [0x0A])) + [0x0A]
            let before = Self.exported(exportPath).bytes.count
            _ = try Sender.send(chunk, options: SendOptions(target: .unixStream(path: try #require(edgeDaemon.announcement.unix)),
                                                            acknowledged: true))
            guard round < 2 else { break }
            // Killed while the sinks are at work: once the file has grown, before it holds everything.
            _ = waitUntil(.seconds(10), every: .milliseconds(1)) { Self.exported(exportPath).bytes.count > before }
            let sent = min(start + part, lines.count)
            let inFile = Self.exported(exportPath).bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            edgeDaemon.kill(SIGKILL)
            if inFile < sent { killedMidway += 1 }
            edgeDaemon = try ServeProcess(dataDirectory: edge, arguments: arguments)
        }
        #expect(killedMidway > 0, "the edge should have been killed while the file sink was behind")

        let edgeIDs = try ReplayTests.eventIDs(edge)
        #expect(edgeIDs.count == lines.count)
        // The file sink: every event once, in log order, byte for byte what the log holds.
        let expected = try Self.logLines(edge)
        var files = 0
        #expect(waitUntil(.seconds(60)) {
            let (bytes, count) = Self.exported(exportPath)
            files = count
            return bytes.count >= expected.count
        })
        let written = Self.exported(exportPath).bytes
        #expect(written.count == expected.count && written == expected, "the exported files differ from the log")
        #expect(files > 1, "rotate-bytes should have rotated the file")
        // The langfuse sink: every event id at the central (at least once; its export once each).
        var centralIDs: [String: Int] = [:]
        #expect(waitUntil(.seconds(60)) {
            centralIDs = (try? ReplayTests.eventIDs(central)) ?? [:]
            return Set(centralIDs.keys) == Set(edgeIDs.keys)
        })
        let exportedIDs = try run(builtExecutable("wick"), ["export", "--data-dir", central]).output
            .split(separator: "\n").compactMap { try? JSONValue.parse(String($0))["id"]?.stringValue }
        #expect(exportedIDs.count == edgeIDs.count && Set(exportedIDs) == Set(edgeIDs.keys))
        // `wick export` of the edge writes what the file sink wrote (no duplicates in this corpus).
        let edgeExport = try run(builtExecutable("wick"), ["export", "--data-dir", edge]).output
        #expect(Set(edgeExport.split(separator: "\n")) == Set(String(decoding: written, as: UTF8.self).split(separator: "\n")))

        // Each sink's statistics, apart: metrics labelled by sink, and a line each in `wick stats`.
        var stats = ""
        #expect(waitUntil(.seconds(20)) {
            stats = (try? run(builtExecutable("wick"), ["stats", "--data-dir", edge]).output) ?? ""
            return stats.contains(#/replay to central \(langfuse\): \d+ events delivered, lag 0 records/#)
                && stats.contains(#/replay to archive \(file\): \d+ events delivered, lag 0 records, 0 retries, 0 refused, \d+ bytes written/#)
        }, "\(stats)")
        let samples = MetricsClient.parse(try MetricsClient.fetch(try #require(edgeDaemon.announcement.metrics)))
        #expect(Set(samples.filter { $0.name == "wick_replay_lag_records" }.compactMap { $0.labels["sink"] }) == ["central", "archive"])
        #expect(samples.contains { $0.name == "wick_replay_sink_info" && $0.labels == ["sink": "archive", "kind": "file"] })
        let cursors = try StoreReader(DataDirectory(edge)).cursors()
        #expect(cursors["replay.central"] != nil && cursors["replay.archive"] != nil)
    }

    /// A sink's settings from each source: names as a YAML list or a WICK_* variable, any key of a
    /// sink overridden by its environment variable, the flat replay.* keys as one more sink.
    /// A daemon that compacted and deleted its raw segments, then went idle with a sink that read
    /// them and late scores that reopened compacted traces: none of its readers keeps a deleted
    /// segment open (which would keep the file's space from the disk).
    @Test func noReaderKeepsADeletedSegmentOpen() async throws {
        let temp = TemporaryDirectory("wdl")
        let data = temp.file("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try """
            assembler:
              settle-ms: 100
            storage:
              segment-max-age-ms: 200
            compaction:
              interval-ms: 150
            replay:
              sinks: [archive]
            sinks:
              archive:
                kind: file
                path: events.ndjson
                backoff-initial-ms: 20
            """.write(toFile: temp.file("w.yaml"), atomically: true, encoding: .utf8)
        let daemon = try ServeProcess(dataDirectory: data, arguments: ["--config", temp.file("w.yaml"), "--log-level", "error"])
        defer { daemon.kill(SIGTERM) }
        let socket = try #require(daemon.announcement.unix)
        let input = try corpus(traces: 30, seed: 5)
        _ = try Sender.send(input, options: SendOptions(target: .unixStream(path: socket), acknowledged: true))
        let compacted = { (try? run(builtExecutable("wick"), ["inspect", "--json", "--data-dir", data]).output) ?? "" }
        func compactedTraces() -> Int {
            guard let inspect = try? JSONValue.parse(compacted()) else { return 0 }
            return (inspect["segments"]?.arrayValue ?? []).filter { $0["log"]?.stringValue == "compacted" }
                .reduce(0) { $0 + Int($1["records"]?.numberValue?.int64Value ?? 0) }
        }
        #expect(waitUntil(.seconds(60)) { compactedTraces() >= 30 }, "\(compacted())")
        // Late scores for compacted traces: the assembler reopens them through its readers.
        let traces = String(decoding: input, as: UTF8.self).split(separator: "\n").compactMap { line -> String? in
            guard let event = try? JSONValue.parse(String(line)), event["type"]?.stringValue == "trace-create",
                  event["body"]?["name"] != nil else { return nil }
            return event["body"]?["id"]?.stringValue
        }
        let scores = traces.enumerated().map { n, id in
            #"{"id":"late-\#(n)","type":"score-create","timestamp":"2026-12-02T00:00:00.000Z","body":{"id":"late-score-\#(n)","traceId":"\#(id)","name":"judge","value":1}}"#
        }.joined(separator: "\n") + "\n"
        _ = try Sender.send(Array(scores.utf8), options: SendOptions(target: .unixStream(path: socket), acknowledged: true))
        // Everything compacted again (the scores merged) and the raw segments gone.
        #expect(waitUntil(.seconds(60)) {
            let inspect = compacted()
            return inspect.contains(#""log":"events""#) && (try? JSONValue.parse(inspect))?["segments"]?.arrayValue?
                .filter { $0["log"]?.stringValue == "events" && $0["records"]?.numberValue?.int64Value != 0 }.isEmpty == true
        }, "\(compacted())")
        let heldOpen = {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.process.processIdentifier)/fd")) ?? []
            return fds.compactMap { fd -> String? in
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(daemon.process.processIdentifier)/fd/\(fd)")) ?? ""
                return target.contains("/data/") && target.hasSuffix("(deleted)") ? target : nil
            }
        }
        #expect(waitUntil(.seconds(10)) { heldOpen().isEmpty }, "\(heldOpen())")
    }

    @Test func sinksAreReadFromYAMLTheEnvironmentAndTheFlatKeys() async throws {
        let temp = TemporaryDirectory("wsc")
        try """
            replay:
              url: http://central:3000
              public-key: pk
              secret-key: sk
              gzip: false
              sinks:
                - backup
                - archive
            sinks:
              backup:
                kind: langfuse
                url: https://backup:3443/lf
                ca-file: /etc/ssl/certs/ca-certificates.crt
                public-key: pk-b
                secret-key: sk-b
                concurrency: 2
                timeout-ms: 1500
              archive:
                kind: file
                path: /srv/export/events.ndjson
                rotate-bytes: 1_000_000
              unlisted:
                kind: nonsense
            """.write(toFile: temp.file("wick.yaml"), atomically: true, encoding: .utf8)
        let configuration = try await WickConfiguration.load(file: temp.file("wick.yaml"), flags: [:],
                                                             environment: ["WICK_SINKS_ARCHIVE_BATCH_EVENTS": "7"])
        #expect(configuration.sinks.map(\.name) == ["central", "backup", "archive"])
        #expect(configuration.sinks.map(\.kind.name) == ["langfuse", "langfuse", "file"])
        var central = Replayer.Sink(name: "central", url: "http://central:3000", publicKey: "pk", secretKey: "sk")
        if case .langfuse(var langfuse) = central.kind {
            langfuse.compression = .none
            central.kind = .langfuse(langfuse)
        }
        #expect(configuration.sinks.first == central)
        if case .langfuse(let backup) = configuration.sinks[1].kind {
            #expect(Endpoint(url: backup.url) == Endpoint(url: "https://backup:3443/lf/"))
            #expect(Endpoint(url: backup.url)?.tls == true && backup.caFile == "/etc/ssl/certs/ca-certificates.crt")
            #expect(backup.timeoutMilliseconds == 1500 && backup.compression == .gzip && configuration.sinks[1].concurrency == 2)
        }
        #expect(configuration.sinks[2].kind == .file(FileSink.Configuration(path: "/srv/export/events.ndjson", rotateBytes: 1_000_000)))
        #expect(configuration.sinks[2].batchEvents == 7 && configuration.sinks[2].concurrency == 1)

        // Names from the environment, comma-separated; sections from it too.
        let fromEnvironment = try await WickConfiguration.load(file: nil, flags: [:], environment: [
            "WICK_REPLAY_SINKS": "my-archive", "WICK_SINKS_MY_ARCHIVE_KIND": "file", "WICK_SINKS_MY_ARCHIVE_PATH": "/x/e.ndjson",
        ])
        #expect(fromEnvironment.sinks.map(\.cursor) == ["replay.my-archive"])
    }

    @Test(arguments: [
        (["replay.sinks": "a"], "sinks.a.kind"),
        (["replay.sinks": "a", "sinks.a.kind": "kafka"], "sinks.a.kind"),
        (["replay.sinks": "a", "sinks.a.kind": "langfuse", "sinks.a.public-key": "p", "sinks.a.secret-key": "s"], "sinks.a.url"),
        (["replay.sinks": "a", "sinks.a.kind": "langfuse", "sinks.a.url": "ftp://c:3000", "sinks.a.public-key": "p",
          "sinks.a.secret-key": "s"], "sinks.a.url"),
        (["replay.sinks": "a", "sinks.a.kind": "langfuse", "sinks.a.url": "https://c:99999", "sinks.a.public-key": "p",
          "sinks.a.secret-key": "s"], "sinks.a.url"),
        (["replay.sinks": "a", "sinks.a.kind": "langfuse", "sinks.a.url": "https://c", "sinks.a.public-key": "p",
          "sinks.a.secret-key": "s", "sinks.a.ca-file": "/nonexistent/ca.pem"], "sinks.a.ca-file"),
        (["replay.sinks": "a", "sinks.a.kind": "file", "sinks.a.path": "/x", "sinks.a.ca-file": "/etc/passwd"], "sinks.a.ca-file"),
        (["replay.sinks": "a", "sinks.a.kind": "langfuse", "sinks.a.url": "http://c:3000"], "sinks.a.public-key"),
        (["replay.sinks": "a", "sinks.a.kind": "langfuse", "sinks.a.url": "http://c:3000", "sinks.a.public-key": "p",
          "sinks.a.secret-key": "s", "sinks.a.compression": "brotli"], "sinks.a.compression"),
        (["replay.sinks": "a", "sinks.a.kind": "otlp", "sinks.a.url": "http://c:3000", "sinks.a.compression": "zstd"], "sinks.a.compression"),
        (["replay.sinks": "a", "sinks.a.kind": "langfuse", "sinks.a.url": "http://c:3000", "sinks.a.public-key": "p",
          "sinks.a.secret-key": "s", "sinks.a.path": "/x"], "sinks.a.path"),
        (["replay.sinks": "a", "sinks.a.kind": "file"], "sinks.a.path"),
        (["replay.sinks": "a", "sinks.a.kind": "file", "sinks.a.path": "/x/"], "sinks.a.path"),
        (["replay.sinks": "a", "sinks.a.kind": "file", "sinks.a.path": "/x", "sinks.a.concurrency": "2"], "sinks.a.concurrency"),
        (["replay.sinks": "a", "sinks.a.kind": "file", "sinks.a.path": "/x", "sinks.a.url": "http://c:3000"], "sinks.a.url"),
        (["replay.sinks": "a", "sinks.a.kind": "file", "sinks.a.path": "/x", "sinks.a.compression": "gzip"], "sinks.a.compression"),
        (["replay.sinks": "a", "sinks.a.kind": "file", "sinks.a.path": "/x", "sinks.a.rotate-bytes": "100"], "sinks.a.rotate-bytes"),
        (["replay.sinks": "a", "sinks.a.kind": "file", "sinks.a.path": "/x", "sinks.a.batch-events": "0"], "sinks.a.batch-events"),
        (["replay.sinks": "a", "sinks.a.kind": "file", "sinks.a.path": "/x", "sinks.a.backoff-max-ms": "soon"], "sinks.a.backoff-max-ms"),
        (["replay.sinks": "a,b", "sinks.a.kind": "file", "sinks.a.path": "/x", "sinks.b.kind": "file", "sinks.b.path": "/x"],
         "sinks.b.path"),
        (["replay.sinks": "Central"], "replay.sinks"),
        (["replay.sinks": "a.b"], "replay.sinks"),
        (["replay.sinks": "a,a", "sinks.a.kind": "file", "sinks.a.path": "/x"], "replay.sinks"),
        (["replay.url": "http://c:3000", "replay.sinks": "central", "sinks.central.kind": "file", "sinks.central.path": "/x"], "replay.sinks"),
        (["replay.url": "http://c:3000", "replay.name": "the central"], "replay.name"),
        (["replay.sinks": "o", "sinks.o.kind": "otlp"], "sinks.o.url"),
        (["replay.sinks": "o", "sinks.o.kind": "otlp", "sinks.o.url": "https://[::1"], "sinks.o.url"),
        (["replay.sinks": "o", "sinks.o.kind": "otlp", "sinks.o.url": "https://c:4318", "sinks.o.ca-file": "/etc/passwd"], "sinks.o.ca-file"),
        (["replay.sinks": "o", "sinks.o.kind": "otlp", "sinks.o.url": "http://c:4318", "sinks.o.path": "/x"], "sinks.o.path"),
        (["replay.sinks": "o", "sinks.o.kind": "otlp", "sinks.o.url": "http://c:4318", "sinks.o.traces-path": "v1/traces"],
         "sinks.o.traces-path"),
        (["replay.sinks": "o", "sinks.o.kind": "otlp", "sinks.o.url": "http://c:4318", "sinks.o.traces-path": ""], "sinks.o.traces-path"),
        (["replay.sinks": "o", "sinks.o.kind": "otlp", "sinks.o.url": "http://c:4318", "sinks.o.scores-path": "ingest"],
         "sinks.o.scores-path"),
        (["replay.sinks": "a", "sinks.a.kind": "langfuse", "sinks.a.url": "http://c:3000", "sinks.a.public-key": "p",
          "sinks.a.secret-key": "s", "sinks.a.scores-path": "/x"], "sinks.a.scores-path"),
    ])
    func badSinksAreRefusedNamingTheirKey(_ flags: [String: String], _ key: String) async throws {
        do {
            _ = try await WickConfiguration.load(file: nil, flags: flags, environment: [:])
            Issue.record("\(flags) was accepted")
        } catch let error as ConfigurationError {
            #expect(error.key == key, "\(error)")
            #expect(error.description.contains(key))
        }
    }

    @Test func anOTLPSinkNeedsOnlyAURLAndTakesItsPaths() async throws {
        let bare = try await WickConfiguration.load(file: nil, flags: [
            "replay.sinks": "otel", "sinks.otel.kind": "otlp", "sinks.otel.url": "http://collector:4318",
            "sinks.otel.traces-path": "/v1/traces", "sinks.otel.scores-path": "",
        ], environment: [:])
        guard case .otlp(let otlp)? = bare.sinks.first?.kind else {
            Issue.record("not an otlp sink: \(bare.sinks)")
            return
        }
        #expect(otlp.tracesPath == "/v1/traces" && otlp.scoresPath.isEmpty && otlp.publicKey.isEmpty && otlp.compression == .gzip)
        #expect(bare.sinks.first?.concurrency == 4)
    }

    /// A sink dropped from the config leaves its cursor holding raw segments: the daemon says so at
    /// start, and `wick cursors remove` (with the daemon stopped) lets them go.
    @Test func aCursorNoSinkOwnsIsReportedAndCanBeRemoved() throws {
        let temp = TemporaryDirectory("wso")
        let data = temp.file("data")
        try "replay:\n  sinks: old\nsinks:\n  old:\n    kind: file\n    path: \(temp.file("old.ndjson"))\n"
            .write(toFile: temp.file("old.yaml"), atomically: true, encoding: .utf8)
        let first = try ServeProcess(dataDirectory: data, arguments: ["--config", temp.file("old.yaml"), "--log-level", "error"])
        _ = try Sender.send(try corpus(traces: 3, seed: 5),
                            options: SendOptions(target: .unixStream(path: try #require(first.announcement.unix)), acknowledged: true))
        #expect(waitUntil(.seconds(10)) { (try? StoreReader(DataDirectory(data)).cursors()["replay.old"]) ?? 0 > 0 })
        first.kill(SIGTERM)

        let second = try ServeProcess(dataDirectory: data, arguments: ["--log-level", "warning"], logPath: temp.file("second.log"))
        #expect(waitUntil(.seconds(10)) { fileText(temp.file("second.log")).contains("replay.cursor-orphaned") })
        #expect(fileText(temp.file("second.log")).contains("cursor=replay.old"))
        let refused = try run(builtExecutable("wick"), ["cursors", "remove", "replay.old", "--data-dir", data])
        #expect(refused.termination == .exited(2) && refused.errors.contains("stop the daemon"), "\(refused.errors)")
        second.kill(SIGTERM)

        #expect(try run(builtExecutable("wick"), ["cursors", "--data-dir", data]).output.contains("replay.old "))
        let removed = try run(builtExecutable("wick"), ["cursors", "remove", "replay.old", "--data-dir", data])
        #expect(removed.termination == .exited(0), "\(removed.errors)")
        #expect(try StoreReader(DataDirectory(data)).cursors()["replay.old"] == nil)
        #expect(try run(builtExecutable("wick"), ["cursors", "remove", "assembler", "--data-dir", data]).termination != .exited(0))
    }

    @Test func serveRefusesAnUnknownSinkKindWithExitCode2() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["WICK_REPLAY_SINKS"] = "archive"
        environment["WICK_SINKS_ARCHIVE_KIND"] = "kafka"
        let result = try run(builtExecutable("wick"), ["serve", "--data-dir", TemporaryDirectory("wsu").path], environment: environment)
        #expect(result.termination == .exited(2))
        #expect(result.errors.contains("sinks.archive.kind") && result.errors.contains("kafka"), "\(result.errors)")
    }
}

/// The file kind on its own, through the states a crash can leave: a torn or unrecorded batch is
/// cut back, a rotation cut short is finished, a file someone else shortened is appended to.
@Suite struct FileSinkTests {
    static func batch(_ range: Range<UInt64>, _ tag: String) -> ReplayBatch {
        var batch = ReplayBatch(range: range)
        for sequence in range {
            let line = #"{"id":"\#(tag)-\#(sequence)","type":"event-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"e\#(sequence)"}}"#
            batch.append(sequence: sequence, receiveTime: 0, project: "p", payload: Array(line.utf8))
        }
        return batch
    }

    static func contents(_ path: String) -> String {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    @Test func aCrashNeitherLosesNorDoublesAnEvent() throws {
        let temp = TemporaryDirectory("wfs")
        let path = temp.file("events.ndjson")
        let state = temp.file("sinks/archive.state")
        let configuration = FileSink.Configuration(path: path)
        var sink = FileSink(configuration, statePath: state, logger: quietLogger)
        #expect(try sink.prepare(storedCursor: nil) == 0)
        let first = Self.batch(0..<3, "a")
        guard case .delivered(let bytes, let refused) = sink.send(first) else { Issue.record("not delivered"); return }
        #expect(refused.isEmpty && bytes == first.ndjson.count)
        let afterFirst = Self.contents(path)
        #expect(afterFirst == String(decoding: first.ndjson, as: UTF8.self))

        // Killed mid-write: a torn line past what the state records is cut, and the batch comes again.
        try (afterFirst + #"{"id":"torn"#).write(toFile: path, atomically: false, encoding: .utf8)
        sink = FileSink(configuration, statePath: state, logger: quietLogger)
        #expect(try sink.prepare(storedCursor: 0) == 3, "the sink's own state is ahead of the store's cursor")
        #expect(Self.contents(path) == afterFirst)

        // Killed after the write was synced, before the state: written again, once.
        let second = Self.batch(3..<5, "b")
        try (afterFirst + String(decoding: second.ndjson, as: UTF8.self)).write(toFile: path, atomically: false, encoding: .utf8)
        sink = FileSink(configuration, statePath: state, logger: quietLogger)
        #expect(try sink.prepare(storedCursor: 3) == 3)
        guard case .delivered = sink.send(second) else { Issue.record("not delivered"); return }
        let both = afterFirst + String(decoding: second.ndjson, as: UTF8.self)
        #expect(Self.contents(path) == both)

        // A pretty-printed event (an HTTP batch may be) is still one line.
        var pretty = ReplayBatch(range: 5..<6)
        pretty.append(sequence: 5, receiveTime: 0, project: "p", payload: Array("{\n  \"id\": \"c\",\r\n  \"type\": \"sdk-log\"\n}".utf8))
        guard case .delivered = sink.send(pretty) else { Issue.record("not delivered"); return }
        #expect(Self.contents(path) == both + "{   \"id\": \"c\",    \"type\": \"sdk-log\" }\n")

        // Someone else emptied the file: it is appended to from there, nothing written twice.
        try "".write(toFile: path, atomically: false, encoding: .utf8)
        sink = FileSink(configuration, statePath: state, logger: quietLogger)
        #expect(try sink.prepare(storedCursor: 6) == 6)
        let third = Self.batch(6..<7, "c")
        guard case .delivered = sink.send(third) else { Issue.record("not delivered"); return }
        #expect(Self.contents(path) == String(decoding: third.ndjson, as: UTF8.self))

        // A state that is not one is an error that names it, not a silent restart.
        try "garbage".write(toFile: state, atomically: false, encoding: .utf8)
        #expect(throws: (any Error).self) { try FileSink(configuration, statePath: state, logger: quietLogger).prepare(storedCursor: 7) }
    }

    @Test func rotationKeepsEveryEventOnceThoughACrashCutsItShort() throws {
        let temp = TemporaryDirectory("wfr")
        let path = temp.file("events.ndjson")
        let state = temp.file("sinks/archive.state")
        let configuration = FileSink.Configuration(path: path, rotateBytes: 4096)
        var sink = FileSink(configuration, statePath: state, logger: quietLogger)
        _ = try sink.prepare(storedCursor: nil)
        var all = ""
        var next: UInt64 = 0
        for _ in 0..<10 {
            let batch = Self.batch(next..<next + 10, "r")
            next += 10
            all += String(decoding: batch.ndjson, as: UTF8.self)
            guard case .delivered = sink.send(batch) else { Issue.record("not delivered"); return }
        }
        var rotated: [String] = []
        while FileManager.default.fileExists(atPath: FileSink.rotatedPath(path, rotated.count + 1)) {
            rotated.append(FileSink.rotatedPath(path, rotated.count + 1))
        }
        #expect(rotated.count >= 2)
        #expect(rotated.allSatisfy { (FileManager.default.contents(atPath: $0)?.count ?? 0) <= 4096 })
        #expect((rotated + [path]).map(Self.contents).joined() == all)

        // Killed between renaming the full file and recording it: the next start finishes the rotation.
        let pending = FileSink.rotatedPath(path, rotated.count + 1)
        try FileManager.default.moveItem(atPath: path, toPath: pending)
        sink = FileSink(configuration, statePath: state, logger: quietLogger)
        #expect(try sink.prepare(storedCursor: next) == next)
        let last = Self.batch(next..<next + 3, "s")
        all += String(decoding: last.ndjson, as: UTF8.self)
        guard case .delivered = sink.send(last) else { Issue.record("not delivered"); return }
        rotated.append(pending)
        #expect(!FileManager.default.fileExists(atPath: FileSink.rotatedPath(path, rotated.count + 1)))
        #expect((rotated + [path]).map(Self.contents).joined() == all)
    }
}
