import Foundation
import Testing
import WickDaemon
import WickIngest
import WickJSON
import WickStore
import WickTestSupport

/// `wick trace`, `wick traces` and `wick tail` as a user runs them, beside a live `wick serve`.
@Suite(.serialized) struct TraceCommandTests {
    /// What a corpus says about its traces, to check the commands against.
    struct Expected {
        var observations: [String: Set<String>] = [:]
        var users: [String: String] = [:]
        var names: [String: String] = [:]
        var parents: [String: String] = [:]

        init(_ corpus: [UInt8]) throws {
            for line in corpus.split(separator: 0x0A) {
                let event = try JSONValue.parse(Array(line))
                guard let body = event["body"], let type = event["type"]?.stringValue, let id = body["id"]?.stringValue else { continue }
                if type == "trace-create" {
                    if let user = body["userId"]?.stringValue { users[id] = user }
                    if let name = body["name"]?.stringValue { names[id] = name }
                    observations[id, default: []].formUnion([])
                } else if type != "score-create", let trace = body["traceId"]?.stringValue {
                    observations[trace, default: []].insert(id)
                    if let parent = body["parentObservationId"]?.stringValue { parents[id] = parent }
                }
            }
        }
    }

    static func wick(_ arguments: [String]) throws -> (status: ChildProcess.Termination?, output: String, errors: String) {
        let result = try run(builtExecutable("wick"), arguments, timeout: .seconds(60))
        return (result.termination, result.output, result.errors)
    }

    @Test func traceTracesAndTailAgainstALiveDaemon() async throws {
        let temp = TemporaryDirectory("wtc")
        let data = temp.file("data")
        let config = temp.file("wick.yaml")
        try "assembler:\n  settle-ms: 200\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try ServeProcess(dataDirectory: data, arguments: ["--config", config, "--log-level", "error"])
        defer { daemon.kill(SIGTERM) }

        // Follows settled traces from before the first one settles.
        let tail = try ChildProcess(builtExecutable("wick"), ["tail", "--traces", "--json", "--count", "3", "--data-dir", data],
                                    environment: ProcessInfo.processInfo.environment, stderrPath: temp.file("tail.err"))
        defer { tail.kill() }
        // And events, as they become durable.
        let eventTail = try ChildProcess(builtExecutable("wick"), ["tail", "--json", "--count", "5", "--data-dir", data],
                                         environment: ProcessInfo.processInfo.environment,
                                         stdoutPath: temp.file("events.out"), stderrPath: temp.file("events.err"))
        defer { eventTail.kill() }
        try await Task.sleep(nanoseconds: 300_000_000)

        let input = try corpus(traces: 40, seed: 5)
        let expected = try Expected(input)
        _ = try Sender.send(input, options: SendOptions(target: .unixStream(path: try #require(daemon.announcement.unix)), acknowledged: true))

        // `wick trace` sees a trace as soon as its events are durable: no waiting for settling.
        let (traceID, observationIDs) = try #require(expected.observations.first { $0.value.count >= 3 })
        let shown = try Self.wick(["trace", traceID, "--json", "--data-dir", data])
        #expect(shown.status == .exited(0), "\(shown.errors)")
        let json = try JSONValue.parse(shown.output)
        #expect(json["id"]?.stringValue == traceID)
        #expect(json["name"]?.stringValue == expected.names[traceID])
        #expect(json["userId"]?.stringValue == expected.users[traceID])
        let observations = try #require(json["observations"]?.arrayValue)
        #expect(Set(observations.compactMap { $0["id"]?.stringValue }) == observationIDs)
        for observation in observations {
            let id = try #require(observation["id"]?.stringValue)
            #expect(observation["parentObservationId"]?.stringValue == expected.parents[id])
        }
        #expect((json["latency"]?.numberValue?.doubleValue ?? 0) > 0)

        // The tree in a terminal-less run: plain text, every observation named, no colour codes.
        let text = try Self.wick(["trace", traceID, "--data-dir", data])
        #expect(text.status == .exited(0))
        #expect(!text.output.contains("\u{1B}["))
        #expect(text.output.contains(traceID))
        #expect(text.output.contains("llm-call"))

        // `wick traces` lists the settled summaries, filtered.
        #expect(waitUntil(.seconds(30)) {
            (try? Self.wick(["traces", "--json", "--limit", "1000", "--data-dir", data]).output.split(separator: "\n").count) == expected.observations.count
        })
        let user = try #require(expected.users.values.first)
        let forUser = try Self.wick(["traces", "--user", user, "--json", "--limit", "1000", "--data-dir", data])
        let listed = try forUser.output.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        #expect(listed.count == expected.users.values.filter { $0 == user }.count)
        #expect(listed.allSatisfy { $0["userId"]?.stringValue == user })
        let slowest = try Self.wick(["traces", "--order", "latency", "--limit", "5", "--json", "--data-dir", data])
        let latencies = try slowest.output.split(separator: "\n").map { try #require(try JSONValue.parse(String($0))["latency"]?.numberValue?.doubleValue) }
        #expect(latencies.count == 5)
        #expect(latencies == latencies.sorted(by: >))
        let table = try Self.wick(["traces", "--limit", "3", "--data-dir", data])
        #expect(table.output.split(separator: "\n").count == 4, "a header and three rows:\n\(table.output)")

        // The tails printed the first three traces that settled and the first five events, and stopped.
        for _ in 0..<3 {
            let line = try #require(tail.readLine(timeout: .seconds(30)))
            let id = try #require(try JSONValue.parse(line)["id"]?.stringValue)
            #expect(expected.observations[id] != nil, "a settled trace of the corpus")
        }
        #expect(tail.wait(timeout: .seconds(30)) == .exited(0))
        #expect(eventTail.wait(timeout: .seconds(30)) == .exited(0))
        let followed = fileText(temp.file("events.out")).split(separator: "\n").map { Array($0.utf8) }
        #expect(followed == Array(input.split(separator: 0x0A).prefix(5).map(Array.init)))
        let bad = try Self.wick(["traces", "--order", "bogus", "--data-dir", data])
        #expect(bad.status != .exited(0))
        #expect(bad.errors.contains("--order"))
    }

    /// kill -9 while traces are open: the restarted daemon's assembler resumes from its cursor and
    /// ends with a summary of every trace, equal to the fold of its events.
    @Test func sigkillMidAssemblyAndRestartEndWithEverySummary() async throws {
        let temp = TemporaryDirectory("wtk")
        let data = temp.file("data")
        let config = temp.file("wick.yaml")
        // First run: nothing may settle, so the kill finds every trace open.
        try "assembler:\n  settle-ms: 600000\n".write(toFile: config, atomically: true, encoding: .utf8)
        let input = try corpus(traces: 60, seed: 9)
        let expected = try Expected(input)
        let first = try ServeProcess(dataDirectory: data, arguments: ["--config", config, "--log-level", "error"])
        _ = try Sender.send(input, options: SendOptions(target: .unixStream(path: try #require(first.announcement.unix)), acknowledged: true))
        #expect(waitUntil(.seconds(10)) { (ActivatedDaemonAccess.metric(first, "wick_assembler_open_traces") ?? 0) == Double(expected.observations.count) })
        first.kill(SIGKILL)
        #expect(try Self.wick(["traces", "--json", "--data-dir", data]).output.isEmpty)

        try "assembler:\n  settle-ms: 300\n".write(toFile: config, atomically: true, encoding: .utf8)

        let second = try ServeProcess(dataDirectory: data, arguments: ["--config", config, "--log-level", "error"])
        defer { second.kill(SIGTERM) }
        #expect(waitUntil(.seconds(30)) {
            (try? Self.wick(["traces", "--json", "--limit", "1000", "--data-dir", data]).output.split(separator: "\n").count) == expected.observations.count
        })
        let listed = try Self.wick(["traces", "--json", "--limit", "1000", "--data-dir", data]).output.split(separator: "\n")
        for line in listed.prefix(10) {
            let summary = try JSONValue.parse(String(line))
            let id = try #require(summary["id"]?.stringValue)
            let trace = try JSONValue.parse(try Self.wick(["trace", id, "--json", "--data-dir", data]).output)
            #expect(summary["latency"] == trace["latency"], "trace \(id)")
            let counts = summary["observations"]?.objectValue?.compactMap { $0.value.numberValue?.int64Value } ?? []
            let observations = trace["observations"]?.arrayValue?.count ?? -1
            #expect(counts.reduce(0, +) == Int64(observations), "trace \(id)")
        }
    }
}
