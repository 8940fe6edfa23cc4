import Foundation
import Testing
import WickDaemon
import WickIngest
import WickJSON
import WickModel
import WickPipeline
import WickStore
import WickTestSupport

/// `wick compact` killed (SIGKILL) after each step of publishing: the data directory shows either
/// the raw events or the compacted documents of every trace, never both and never neither, with no
/// event lost or doubled; the next compaction finishes the work.
@Suite(.serialized) struct CompactionCrashTests {
    /// A data directory whose raw segments are sealed and settled, made by a real daemon.
    static func settledDataDirectory(_ temp: TemporaryDirectory) throws -> (data: String, traces: [String]) {
        let data = temp.file("data")
        let config = temp.file("wick.yaml")
        try """
            assembler:
              settle-ms: 200
              commit-ms: 20
            storage:
              segment-max-bytes: 65536
              segment-max-age-ms: 400
            compaction:
              enabled: false
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let input = try corpus(traces: 80, seed: 13)
        let traces = Array(try TraceCommandTests.Expected(input).observations.keys).sorted()
        let daemon = try ServeProcess(dataDirectory: data, arguments: ["--config", config, "--log-level", "error"])
        // In three parts, each its own commits: a commit is never split across segments.
        let lines = input.split(separator: 0x0A, omittingEmptySubsequences: true)
        let part = (lines.count + 2) / 3
        for start in stride(from: 0, to: lines.count, by: part) {
            let chunk = Array(lines[start..<min(start + part, lines.count)].joined(separator: [0x0A])) + [0x0A]
            _ = try Sender.send(chunk, options: SendOptions(target: .unixStream(path: try #require(daemon.announcement.unix)),
                                                            acknowledged: true))
            sleep(for: .milliseconds(600))
        }
        let settled = waitUntil(.seconds(30)) {
            guard let reader = try? StoreReader(DataDirectory(data)), let end = try? reader.logEnd(),
                  let last = try? reader.segments().last
            else { return false }
            // Settled, and the last segment holding events sealed (an empty one follows it).
            return reader.cursors()[TraceDocuments.cursor] == end && last.firstSequence == end
        }
        daemon.kill(SIGTERM)
        #expect(settled)
        return (data, traces)
    }

    static func load(_ data: String, _ traces: [String]) throws -> [String: FoldedTrace] {
        let reader = try StoreReader(DataDirectory(data))
        var result: [String: FoldedTrace] = [:]
        for id in traces {
            result[id] = try TraceLoader.load(id, from: reader, prices: .defaults)?.folded
        }
        return result
    }

    /// Record kinds each trace is read from.
    static func kinds(_ data: String, _ traces: [String]) throws -> [String: Set<RecordKind>] {
        let reader = try StoreReader(DataDirectory(data))
        var result: [String: Set<RecordKind>] = [:]
        for id in traces {
            result[id] = Set(try reader.records(for: TraceDocuments.traceIndexKey(id)).map(\.kind))
        }
        return result
    }

    @Test func aCompactionKilledAtEveryStepLosesAndDoublesNothing() throws {
        let temp = TemporaryDirectory("wcc")
        let (data, traces) = try Self.settledDataDirectory(temp)
        let expected = try Self.load(data, traces)
        #expect(expected.count == 80 && expected.values.allSatisfy { $0.events > 0 })
        let rawSegments = try StoreReader(DataDirectory(data)).segments().count - 1
        #expect(rawSegments >= 2)

        for step in CompactionStep.allCases {
            let copy = temp.file("copy-\(step.rawValue)")
            try FileManager.default.copyItem(atPath: data, toPath: copy)
            var environment = ProcessInfo.processInfo.environment
            environment["WICK_TEST_COMPACT_KILL_AT"] = step.rawValue
            let killed = try run(builtExecutable("wick"), ["compact", "--data-dir", copy], environment: environment)
            #expect(killed.termination == .signaled(SIGKILL), "step \(step): \(killed.errors)")

            // Straight after the kill, as a reader beside a dead daemon sees it.
            let kinds = try Self.kinds(copy, traces)
            let published = step == .indexed
            for id in traces {
                #expect(kinds[id] == [published ? .compactedDocument : .rawEvent], "step \(step), trace \(id)")
            }
            #expect(try Self.load(copy, traces) == expected, "step \(step)")

            // The next compaction finishes (rolling forward a published file) and releases the raw segments.
            let finished = try run(builtExecutable("wick"), ["compact", "--json", "--data-dir", copy])
            #expect(finished.termination == .exited(0), "step \(step): \(finished.errors)")
            let report = try JSONValue.parse(finished.output)
            let alreadyPublished = [.renamed, .directorySynced, .indexed].contains(step)
            #expect(report["segments"]?.numberValue?.int64Value == (alreadyPublished ? 0 : Int64(rawSegments)), "step \(step)")
            #expect(try Self.load(copy, traces) == expected, "step \(step)")
            for (id, found) in try Self.kinds(copy, traces) {
                #expect(found == [.compactedDocument], "step \(step), trace \(id)")
            }
            let reader = try StoreReader(DataDirectory(copy))
            #expect(try reader.segments().count == 1, "step \(step): raw segments released")
            #expect(try reader.compactedSegments().count == 1, "step \(step)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: copy + "/compacted/tmp").isEmpty, "step \(step)")
        }

        // The other commands read a compacted data directory as they read any.
        let copy = temp.file("copy-\(CompactionStep.indexed.rawValue)")
        let verified = try run(builtExecutable("wick"), ["verify", "--json", "--data-dir", copy])
        #expect(verified.termination == .exited(0), "\(verified.output) \(verified.errors)")
        let inspected = try JSONValue.parse(try run(builtExecutable("wick"), ["inspect", "--json", "--data-dir", copy]).output)
        let logs = inspected["segments"]?.arrayValue?.compactMap { $0["log"]?.stringValue } ?? []
        #expect(logs.filter { $0 == "compacted" }.count == 1)
        let costs = try JSONValue.parse(try run(builtExecutable("wick"), ["costs", "--json", "--data-dir", copy]).output)
        #expect(costs["total"]?["traces"]?.numberValue?.int64Value == Int64(traces.count))
        let id = try #require(traces.first)
        let shown = try JSONValue.parse(try run(builtExecutable("wick"), ["trace", id, "--json", "--data-dir", copy]).output)
        #expect(shown["id"]?.stringValue == id)
        #expect(shown["observations"]?.arrayValue?.count == expected[id]?.observations.count)

        // Exported, a compacted directory is create events that fold, anywhere, to the same traces.
        let exported = try run(builtExecutable("wick"), ["export", "--data-dir", copy])
        #expect(exported.termination == .exited(0), "\(exported.errors)")
        let other = temp.file("reimported")
        let daemon = try ServeProcess(dataDirectory: other, arguments: ["--log-level", "error"])
        defer { daemon.kill(SIGTERM) }
        _ = try Sender.send(Array(exported.output.utf8), options: SendOptions(target: .unixStream(path: try #require(daemon.announcement.unix)),
                                                                              acknowledged: true))
        let reimported = try Self.load(other, traces)
        for (id, original) in expected {
            let again = try #require(reimported[id], "trace \(id)")
            #expect(again.trace == original.trace, "trace \(id)")
            #expect(again.observations == original.observations, "trace \(id)")
            #expect(again.scores == original.scores, "trace \(id)")
        }
    }
}
