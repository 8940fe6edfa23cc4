import Foundation
import Testing
import WickDaemon
import WickIngest
import WickJSON
import WickPipeline
import WickStore
import WickTestSupport

/// `wick import DIR`: a data directory made by a real daemon (compacted in part, with raw events
/// after it) merged into another, offline and into a running daemon: every event of the source
/// exactly once in the destination's log and export, however often the import runs, and whether it
/// is killed between storing a batch and recording it; damaged frames reported and skipped.
@Suite(.serialized) struct ImportTests {
    static func wick(_ arguments: [String], environment: [String: String]? = nil) throws
        -> (termination: ChildProcess.Termination?, output: String, errors: String) {
        try run(builtExecutable("wick"), arguments, environment: environment, timeout: .seconds(120))
    }

    /// `wick import --json`'s summary.
    static func importing(_ source: String, into data: String, _ extra: [String] = []) throws -> JSONValue {
        let result = try wick(["import", source, "--data-dir", data, "--json"] + extra)
        #expect(result.termination == .exited(0), "\(result.errors)")
        return try JSONValue.parse(result.output)
    }

    static func count(_ summary: JSONValue, _ key: String) -> Int64? {
        summary[key]?.numberValue?.int64Value
    }

    /// The event ids `wick export` writes, in order.
    static func exportedIDs(_ data: String) throws -> [String] {
        try wick(["export", "--data-dir", data]).output.split(separator: "\n").compactMap {
            try? JSONValue.parse(String($0))["id"]?.stringValue
        }
    }

    /// A source made by a real daemon: settled traces compacted into documents, then more events
    /// (new traces, and late events of compacted ones) left raw.
    static func source(_ temp: TemporaryDirectory) throws -> String {
        let (data, _) = try CompactionCrashTests.settledDataDirectory(temp)
        let compacted = try wick(["compact", "--json", "--data-dir", data])
        #expect(compacted.termination == .exited(0), "\(compacted.errors)")
        #expect(try JSONValue.parse(compacted.output)["documents"]?.numberValue?.int64Value ?? 0 > 0, "\(compacted.output)")
        // The settled directory's configuration: traces settle in 200 ms.
        let daemon = try ServeProcess(dataDirectory: data, arguments: ["--config", temp.file("wick.yaml"), "--log-level", "error"])
        defer { daemon.kill(SIGTERM) }
        let late = #"{"id":"late-1","type":"trace-create","timestamp":"2026-12-01T00:00:00.000Z","body":{"id":"late-trace","name":"late"}}"#
        let more = try corpus(traces: 8, seed: 77) + Array((late + "\n").utf8)
        let end = try StoreReader(DataDirectory(data)).logEnd() + UInt64(more.split(separator: 0x0A).count)
        _ = try Sender.send(more, options: SendOptions(target: .unixStream(path: try #require(daemon.announcement.unix)), acknowledged: true))
        #expect(waitUntil(.seconds(30)) {
            (try? StoreReader(DataDirectory(data)))?.cursors()[TraceDocuments.cursor] == end
        }, "the source's traces settle")
        return data
    }

    @Test func aCopiedDirectoryIsImportedOnceOfflineAndIntoARunningDaemon() throws {
        let temp = TemporaryDirectory("wim")
        let source = try Self.source(temp)
        let expected = try Self.exportedIDs(source)
        #expect(Set(expected).count == expected.count && expected.count > 100)
        #expect(try StoreReader(DataDirectory(source)).compactedSegments().isEmpty == false)

        // Offline: the directory opened here.
        let offline = temp.file("offline")
        try FileManager.default.createDirectory(atPath: offline, withIntermediateDirectories: true)
        let first = try Self.importing(source, into: offline)
        #expect(Self.count(first, "imported") == Int64(expected.count) && Self.count(first, "duplicates") == 0)
        #expect(Self.count(first, "damagedFrames") == 0 && Self.count(first, "rejected") == 0)
        #expect(first["via"]?.stringValue == "directory")
        #expect(try ReplayTests.eventIDs(offline) == Dictionary(uniqueKeysWithValues: expected.map { ($0, 1) }))
        #expect(try Self.exportedIDs(offline) == expected)
        let again = try Self.importing(source, into: offline)
        #expect(Self.count(again, "imported") == 0 && Self.count(again, "duplicates") == Int64(expected.count))
        #expect(try ReplayTests.eventIDs(offline).values.allSatisfy { $0 == 1 })

        // Into a running daemon, which already has a few of the events from elsewhere.
        let live = temp.file("live")
        let config = temp.file("live.yaml")
        try """
            assembler:
              settle-ms: 200
              commit-ms: 20
            storage:
              segment-max-age-ms: 400
            compaction:
              enabled: false
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try ServeProcess(dataDirectory: live, arguments: ["--config", config, "--log-level", "error"])
        defer { daemon.kill(SIGTERM) }
        let exported = try Self.wick(["export", "--data-dir", source]).output.split(separator: "\n")
        let already = exported.filter { $0.contains(#""type":"trace-create""#) }.prefix(5)
        _ = try Sender.send(Array((already.joined(separator: "\n") + "\n").utf8),
                            options: SendOptions(target: .unixStream(path: try #require(daemon.announcement.unix)), acknowledged: true))
        let merged = try Self.importing(source, into: live, ["--batch-events", "97"])
        #expect(merged["via"]?.stringValue == "daemon")
        #expect(Self.count(merged, "imported") == Int64(expected.count - already.count))
        #expect(Self.count(merged, "duplicates") == Int64(already.count))
        #expect(try ReplayTests.eventIDs(live) == Dictionary(uniqueKeysWithValues: expected.map { ($0, 1) }))
        #expect(Set(try Self.exportedIDs(live)) == Set(expected))
        #expect(Self.count(try Self.importing(source, into: live), "imported") == 0)

        // Through the same assembler as any event: the traces settle to the source's summaries.
        let sourceSummaries = try ReplayTests.summaries(source)
        var liveSummaries: [String: JSONValue] = [:]
        #expect(waitUntil(.seconds(30)) {
            liveSummaries = (try? ReplayTests.summaries(live)) ?? [:]
            return liveSummaries.count == sourceSummaries.count
        }, "\(liveSummaries.count) of \(sourceSummaries.count) traces")
        for (id, summary) in sourceSummaries {
            #expect(liveSummaries[id]?["totalCost"] == summary["totalCost"], "trace \(id)")
            #expect(liveSummaries[id]?["usage"] == summary["usage"], "trace \(id)")
            #expect(liveSummaries[id]?["observations"] == summary["observations"], "trace \(id)")
        }

        // And through compaction: once the imported events are documents, nothing comes in again.
        #expect(waitUntil(.seconds(20)) {
            let report = (try? Self.wick(["compact", "--json", "--data-dir", live]).output).flatMap { try? JSONValue.parse($0) }
            return (report?["documents"]?.numberValue?.int64Value ?? 0) > 0
        })
        let afterCompaction = try Self.importing(source, into: live)
        #expect(Self.count(afterCompaction, "imported") == 0 && Self.count(afterCompaction, "duplicates") == Int64(expected.count))

        // The daemon's own routes take only the token its user can read.
        let address = try #require(daemon.announcement.metrics)
        #expect(try MetricsClient.request(address, method: "POST", path: "/wick/compact").status == 401)
        #expect(try MetricsClient.request(address, method: "POST", path: "/wick/compact",
                                          headers: [("Authorization", "Bearer not-the-token")]).status == 401)
        #expect(try MetricsClient.request(address, method: "POST", path: "/wick/import?project=p",
                                          headers: [("Authorization", "Bearer not-the-token")], body: Array(#"{"batch":[]}"#.utf8)).status == 401)
    }

    @Test func anImportKilledBetweenStoringAndRecordingABatchResumesWithoutDoubling() throws {
        let temp = TemporaryDirectory("wik")
        let source = temp.file("source")
        let daemon = try ServeProcess(dataDirectory: source, arguments: ["--log-level", "error"])
        _ = try Sender.send(try corpus(traces: 10, seed: 5),
                            options: SendOptions(target: .unixStream(path: try #require(daemon.announcement.unix)), acknowledged: true))
        daemon.kill(SIGTERM)
        let expected = try Self.exportedIDs(source)
        let data = temp.file("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)

        var environment = ProcessInfo.processInfo.environment
        environment["WICK_TEST_IMPORT_KILL_AFTER"] = "2"
        let killed = try Self.wick(["import", source, "--data-dir", data, "--batch-events", "20"], environment: environment)
        #expect(killed.termination == .signaled(SIGKILL), "\(killed.errors)")
        // Two batches stored, the second not recorded: its write-ahead cursor is still there.
        #expect(try ReplayTests.eventIDs(data).count == 40)
        #expect(try StoreReader(DataDirectory(data)).cursors()[Importer.cursor] != nil)

        let resumed = try Self.importing(source, into: data, ["--batch-events", "20"])
        #expect(Self.count(resumed, "imported") == Int64(expected.count - 40) && Self.count(resumed, "duplicates") == 40)
        #expect(try ReplayTests.eventIDs(data) == Dictionary(uniqueKeysWithValues: expected.map { ($0, 1) }))
        #expect(try StoreReader(DataDirectory(data)).cursors()[Importer.cursor] == nil)
    }

    @Test func damagedFramesOfTheSourceAreReportedAndSkipped() throws {
        let temp = TemporaryDirectory("wid")
        let (settled, _) = try CompactionCrashTests.settledDataDirectory(temp)
        let source = temp.file("damaged")
        try FileManager.default.copyItem(atPath: settled, toPath: source)
        // A byte in the middle of the first sealed segment: one frame's checksum fails.
        let segment = try #require(try StoreReader(DataDirectory(source)).segments().first { $0.sealed })
        let handle = try #require(FileHandle(forUpdatingAtPath: segment.path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: size / 2)
        try handle.write(contentsOf: Data([byte ^ 0xFF]))
        try handle.close()
        let verified = try Self.wick(["verify", "--data-dir", source])
        #expect(verified.termination == .exited(1))

        let expected = try Self.exportedIDs(source)
        let total = try Self.exportedIDs(settled).count
        #expect(expected.count < total)
        let data = temp.file("destination")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let result = try Self.wick(["import", source, "--data-dir", data, "--json"])
        #expect(result.termination == .exited(0), "\(result.errors)")
        #expect(result.errors.contains("damaged frames"))
        let summary = try JSONValue.parse(result.output)
        #expect(Self.count(summary, "damagedFrames") ?? 0 >= 1)
        #expect(Self.count(summary, "imported") == Int64(expected.count), "\(result.output)")
        #expect(try Self.exportedIDs(data) == expected)
    }
}
