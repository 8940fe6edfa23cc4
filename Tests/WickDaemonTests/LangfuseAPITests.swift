import Foundation
import Testing
import WickDaemon
import WickJSON
import WickTestSupport

/// The Langfuse-compatible HTTP API of a live `wick serve`: keys, auth, batch ingestion with a
/// per-event answer, gzip, limits; and Langfuse's own Python SDK (v2) pointed at it.
@Suite(.serialized) struct LangfuseAPITests {
    static func wick(_ arguments: [String]) throws -> (status: ChildProcess.Termination?, output: String, errors: String) {
        let result = try run(builtExecutable("wick"), arguments, timeout: .seconds(60))
        return (result.termination, result.output, result.errors)
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] { try filter(bytes, through: ["gzip", "-c"]) }

    static func zstd(_ bytes: [UInt8]) throws -> [UInt8] { try filter(bytes, through: ["zstd", "-q", "-c"]) }

    /// `bytes` through a command-line compressor: bodies as other programs write them.
    static func filter(_ bytes: [UInt8], through command: [String]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(bytes))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(data)
    }

    static func event(_ id: String, _ type: String, _ body: String) -> String {
        #"{"id":"\#(id)","type":"\#(type)","timestamp":"2026-11-29T10:00:00.000Z","body":\#(body)}"#
    }

    @Test func batchIngestionIsAuthenticatedCheckedPerEventAndStored() throws {
        let daemon = try APIDaemon(TemporaryDirectory("wha"), project: "shop", config: "http:\n  max-body-bytes: 1048576\n")
        defer { daemon.stop() }
        let (data, address, auth, publicKey) = (daemon.data, daemon.address, daemon.auth, daemon.publicKey)

        let health = try MetricsClient.request(address, method: "GET", path: "/api/public/health")
        #expect(health.status == 200)
        #expect(try JSONValue.parse(health.body)["status"]?.stringValue == "OK")
        let projects = try MetricsClient.request(address, method: "GET", path: "/api/public/projects", headers: [auth])
        #expect(try JSONValue.parse(projects.body)["data"]?[0]?["name"]?.stringValue == "shop")

        let batch = #"{"batch":["# + [
            Self.event("e1", "trace-create", #"{"id":"web-1","name":"checkout","userId":"u-1"}"#),
            Self.event("e2", "generation-create",
                       #"{"id":"g-1","traceId":"web-1","model":"gpt-4o","usageDetails":{"input":1000,"output":100}}"#),
            Self.event("e3", "span-create", #"{"id":"","traceId":"web-1"}"#),
            #"42"#,
        ].joined(separator: ",") + #"],"metadata":{"sdk_name":"test"}}"#
        // Auth first: nothing is stored without it.
        let anonymous = try MetricsClient.request(address, method: "POST", path: "/api/public/ingestion", body: Array(batch.utf8))
        #expect(anonymous.status == 401)
        let wrong = try MetricsClient.request(address, method: "POST", path: "/api/public/ingestion",
                                              headers: [APIDaemon.basic(publicKey, "sk-lf-wrong")], body: Array(batch.utf8))
        #expect(wrong.status == 401)

        let response = try MetricsClient.request(address, method: "POST", path: "/api/public/ingestion",
                                                 headers: [auth, ("Content-Type", "application/json")], body: Array(batch.utf8))
        #expect(response.status == 207)
        let answer = try JSONValue.parse(response.body)
        #expect(answer["successes"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["e1", "e2"])
        let errors = answer["errors"]?.arrayValue ?? []
        #expect(errors.count == 2 && errors.allSatisfy { $0["status"]?.numberValue?.int64Value == 400 })
        #expect(errors.first?["id"]?.stringValue == "e3" && errors.first?["error"]?.stringValue == "invalid_body_id")

        // Gzip bodies, as the SDKs may send them.
        let later = #"{"batch":["# + Self.event("e4", "span-create", #"{"id":"s-1","traceId":"web-1","name":"pay"}"#) + "]}"
        let zipped = try MetricsClient.request(address, method: "POST", path: "/api/public/ingestion",
                                               headers: [auth, ("Content-Encoding", "gzip")], body: try Self.gzip(Array(later.utf8)))
        #expect(zipped.status == 207)
        #expect(try JSONValue.parse(zipped.body)["successes"]?.arrayValue?.count == 1)
        // And zstd, as a replaying Wick may send them (here as the zstd tool writes them).
        let zstdBatch = #"{"batch":["# + Self.event("e5", "span-create", #"{"id":"s-2","traceId":"web-1","name":"ship"}"#) + "]}"
        let squeezed = try MetricsClient.request(address, method: "POST", path: "/api/public/ingestion",
                                                 headers: [auth, ("Content-Encoding", "zstd")], body: try Self.zstd(Array(zstdBatch.utf8)))
        #expect(squeezed.status == 207)
        #expect(try JSONValue.parse(squeezed.body)["successes"]?.arrayValue?.count == 1)

        // Whole-request refusals: not a batch, too large (before or after inflating), broken gzip.
        let single = try MetricsClient.request(address, method: "POST", path: "/api/public/ingestion", headers: [auth],
                                               body: Array(Self.event("e9", "trace-create", #"{"id":"x"}"#).utf8))
        #expect(single.status == 400)
        let huge = Array(#"{"batch":[],"pad":""#.utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 2 << 20) + Array(#""}"#.utf8)
        #expect(try MetricsClient.request(address, method: "POST", path: "/api/public/ingestion", headers: [auth], body: huge).status == 413)
        #expect(try MetricsClient.request(address, method: "POST", path: "/api/public/ingestion",
                                          headers: [auth, ("Content-Encoding", "gzip")], body: try Self.gzip(huge)).status == 413)
        #expect(try MetricsClient.request(address, method: "POST", path: "/api/public/ingestion",
                                          headers: [auth, ("Content-Encoding", "gzip")], body: Array("not gzip".utf8)).status == 400)
        #expect(try MetricsClient.request(address, method: "POST", path: "/api/public/ingestion",
                                          headers: [auth, ("Content-Encoding", "zstd")], body: try Self.zstd(huge)).status == 413)
        let truncated = Array(try Self.zstd(Array(zstdBatch.utf8)).dropLast(4))
        #expect(try MetricsClient.request(address, method: "POST", path: "/api/public/ingestion",
                                          headers: [auth, ("Content-Encoding", "zstd")], body: truncated).status == 400)
        #expect(try MetricsClient.request(address, method: "POST", path: "/api/public/ingestion",
                                          headers: [auth, ("Content-Encoding", "br")], body: Array(zstdBatch.utf8)).status == 415)

        // Stored in the key's project, and read back like any event; the rejects kept with their reasons.
        let trace = try JSONValue.parse(try Self.wick(["trace", "web-1", "--json", "--project", "shop", "--data-dir", data]).output)
        #expect(trace["name"]?.stringValue == "checkout" && trace["userId"]?.stringValue == "u-1")
        #expect(trace["observations"]?.arrayValue?.count == 3)
        #expect(trace["totalCost"]?.numberValue?.text == "0.0035")
        let rejects = try Self.wick(["rejects", "--json", "--data-dir", data]).output.split(separator: "\n")
            .compactMap { try? JSONValue.parse(String($0)) }
        #expect(rejects.count == 2 && rejects.allSatisfy { $0["source"]?.stringValue == "http" })
    }

    @Test func tracesReadBackAndScoresPostOverHTTP() throws {
        // The list is of settled traces (the assembler's summaries): settle quickly.
        let daemon = try APIDaemon(TemporaryDirectory("whr"), project: "shop", config: "assembler:\n  settle-ms: 100\n")
        defer { daemon.stop() }
        let (data, address, auth, publicKey) = (daemon.data, daemon.address, daemon.auth, daemon.publicKey)
        let (otherKey, otherSecret) = try APIDaemon.createKeys(project: "elsewhere", data: data)
        var events: [String] = []
        for n in 0..<3 {
            events.append(Self.event("t\(n)", "trace-create",
                                     #"{"id":"tr-\#(n)","name":"chat","userId":"u-\#(n % 2)","sessionId":"sess-\#(n % 2)","tags":["a"]}"#))
            events.append(Self.event("g\(n)", "generation-create",
                                     #"{"id":"gen-\#(n)","traceId":"tr-\#(n)","model":"gpt-4o-mini","usageDetails":{"input":100,"output":10}}"#))
        }
        let posted = try MetricsClient.request(address, method: "POST", path: "/api/public/ingestion", headers: [auth],
                                               body: Array((#"{"batch":["# + events.joined(separator: ",") + "]}").utf8))
        #expect(posted.status == 207)

        // Scores: one object (Basic auth), an array (Bearer with the public key, as Langfuse allows).
        let one = try MetricsClient.request(address, method: "POST", path: "/api/public/scores", headers: [auth],
                                            body: Array(#"{"traceId":"tr-0","name":"quality","value":0.8}"#.utf8))
        #expect(one.status == 200)
        let scoreID = try #require(try JSONValue.parse(one.body)["id"]?.stringValue)
        let many = try MetricsClient.request(address, method: "POST", path: "/api/public/scores",
                                             headers: [("Authorization", "Bearer \(publicKey)")],
                                             body: Array(#"[{"id":"s-b","traceId":"tr-0","observationId":"gen-0","name":"ok","value":1,"dataType":"BOOLEAN"},{"id":"s-c","traceId":"tr-1","name":"tone","value":"calm"}]"#.utf8))
        #expect(many.status == 202)
        #expect(try JSONValue.parse(many.body) == .object(["message": "Accepted"]))
        let mixed = try MetricsClient.request(address, method: "POST", path: "/api/public/scores", headers: [auth],
                                              body: Array(#"[{"id":"s-d","traceId":"tr-1","name":"n","value":2},{"id":"s-e","traceId":"tr-1","value":3}]"#.utf8))
        #expect(mixed.status == 207)
        let mixedBody = try JSONValue.parse(mixed.body)
        #expect(mixedBody["accepted"] == 1 && mixedBody["rejected"] == 1 && mixedBody["errors"]?[0]?["id"]?.stringValue == "s-e")
        let bad = try MetricsClient.request(address, method: "POST", path: "/api/public/scores", headers: [auth],
                                            body: Array(#"{"traceId":"tr-0","value":1}"#.utf8))
        #expect(bad.status == 400)

        let trace = try MetricsClient.request(address, method: "GET", path: "/api/public/traces/tr-0", headers: [auth])
        #expect(trace.status == 200)
        let value = try JSONValue.parse(trace.body)
        #expect(value["id"]?.stringValue == "tr-0" && value["observations"]?.arrayValue?.count == 1)
        let scores = value["scores"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        #expect(Set(scores) == [scoreID, "s-b"])
        // Another project's key does not see it.
        #expect(try MetricsClient.request(address, method: "GET", path: "/api/public/traces/tr-0",
                                          headers: [APIDaemon.basic(otherKey, otherSecret)]).status == 404)

        var list: JSONValue = .null
        #expect(waitUntil(.seconds(10)) {
            list = (try? JSONValue.parse(try MetricsClient.request(address, method: "GET", path: "/api/public/traces?userId=u-0&limit=1&page=2",
                                                                   headers: [auth]).body)) ?? .null
            return list["meta"]?["totalItems"]?.numberValue?.int64Value == 2
        })
        #expect(list["meta"]?["totalItems"]?.numberValue?.int64Value == 2)
        #expect(list["meta"]?["totalPages"]?.numberValue?.int64Value == 2)
        let item = try #require(list["data"]?[0])
        #expect(item["userId"]?.stringValue == "u-0")
        #expect(item["observations"]?.arrayValue?.allSatisfy { $0.stringValue != nil } == true)
        // The JSON filter is refused rather than ignored until it is supported; an empty one filters nothing.
        let filter = #"[{"type":"string","column":"name","operator":"=","value":"chat"}]"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        #expect(try MetricsClient.request(address, method: "GET", path: "/api/public/traces?filter=" + filter, headers: [auth]).status == 400)
        #expect(try MetricsClient.request(address, method: "GET", path: "/api/public/traces?filter=%5B%5D", headers: [auth]).status == 200)
        // A method a path does not take is a 405 that says which it does.
        let deleted = try MetricsClient.request(address, method: "DELETE", path: "/api/public/traces/tr-0", headers: [auth])
        #expect(deleted.status == 405)

        // Daily metrics: one day (the events' timestamps), three traces, usage and cost by model.
        let daily = try JSONValue.parse(try MetricsClient.request(address, method: "GET", path: "/api/public/metrics/daily",
                                                                  headers: [auth]).body)
        let day = try #require(daily["data"]?[0])
        #expect(day["date"]?.stringValue == "2026-11-29" && day["countTraces"]?.numberValue?.int64Value == 3)
        #expect(day["countObservations"]?.numberValue?.int64Value == 3)
        let usage = try #require(day["usage"]?[0])
        #expect(usage["model"]?.stringValue == "gpt-4o-mini" && usage["inputUsage"]?.numberValue?.int64Value == 300)
        // gpt-4o-mini: 100 × $0.15/M + 10 × $0.60/M per trace, three traces.
        #expect(usage["totalCost"]?.numberValue?.text == "0.000063" && day["totalCost"]?.numberValue?.text == "0.000063")

        // Sessions: sess-0 holds tr-0 and tr-2.
        let sessions = try JSONValue.parse(try MetricsClient.request(address, method: "GET", path: "/api/public/sessions",
                                                                     headers: [auth]).body)
        #expect(Set(sessions["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == ["sess-0", "sess-1"])
        let session = try JSONValue.parse(try MetricsClient.request(address, method: "GET", path: "/api/public/sessions/sess-0",
                                                                    headers: [auth]).body)
        #expect(Set(session["traces"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []) == ["tr-0", "tr-2"])
        #expect(try MetricsClient.request(address, method: "GET", path: "/api/public/sessions/none", headers: [auth]).status == 404)

        // Observations and scores, across traces or of one.
        func get(_ path: String) throws -> JSONValue {
            try JSONValue.parse(try MetricsClient.request(address, method: "GET", path: path, headers: [auth]).body)
        }
        #expect(try get("/api/public/observations?type=GENERATION")["meta"]?["totalItems"]?.numberValue?.int64Value == 3)
        let ofTrace = try get("/api/public/observations?traceId=tr-1")["data"]?.arrayValue ?? []
        #expect(ofTrace.compactMap { $0["id"]?.stringValue } == ["gen-1"])
        #expect(try get("/api/public/observations/gen-2")["model"]?.stringValue == "gpt-4o-mini")
        #expect(try MetricsClient.request(address, method: "GET", path: "/api/public/observations/none", headers: [auth]).status == 404)
        let ok = try get("/api/public/v2/scores?name=ok")["data"]?.arrayValue ?? []
        #expect(ok.count == 1 && ok.first?["trace"]?["userId"]?.stringValue == "u-0" && ok.first?["observationId"]?.stringValue == "gen-0")
        #expect(try get("/api/public/v2/scores?dataType=CATEGORICAL")["data"]?[0]?["stringValue"]?.stringValue == "calm")
        #expect(try get("/api/public/v2/scores/s-c")["traceId"]?.stringValue == "tr-1")
    }

    /// An HTTP address another process holds: `wick serve` stops with the error (exit 1), it does
    /// not hang waiting for a server that never listens.
    @Test func anHTTPAddressInUseStopsTheDaemonWithTheError() throws {
        let temp = TemporaryDirectory("whb")
        let first = try ServeProcess(dataDirectory: temp.file("a"), arguments: ["--log-level", "error"])
        defer { first.kill(SIGTERM) }
        let taken = try #require(first.announcement.http)
        let second = try run(builtExecutable("wick"), ["serve", "--data-dir", temp.file("b"), "--socket", temp.file("b.sock"),
                                                      "--udp", "off", "--unix-datagram", "off", "--metrics", "off",
                                                      "--http", taken, "--log-level", "error"], timeout: .seconds(30))
        #expect(second.termination == .exited(1), "\(second.errors)")
        #expect(second.errors.contains("Address already in use"), "\(second.errors)")
    }

    /// Langfuse's Python SDK v2 (langfuse==2.60.10, in the venv `make test` creates), unchanged.
    @Test func langfusePythonSDKv2WorksUnchanged() throws {
        let python = packageRoot + "/.venv/langfuse2/bin/python"
        #expect(FileManager.default.isExecutableFile(atPath: python), "run `make venvs` (make test does)")
        let daemon = try APIDaemon(TemporaryDirectory("whs"), project: "sdk")
        defer { daemon.stop() }
        let data = daemon.data
        var environment = ProcessInfo.processInfo.environment
        environment["LANGFUSE_HOST"] = "http://" + daemon.address
        environment["LANGFUSE_PUBLIC_KEY"] = daemon.publicKey
        environment["LANGFUSE_SECRET_KEY"] = daemon.secretKey
        let client = try run(python, [packageRoot + "/Tests/Clients/langfuse_v2.py"], environment: environment, timeout: .seconds(120))
        #expect(client.termination == .exited(0), "\(client.errors)")
        let ids = try JSONValue.parse(client.output.split(separator: "\n").last.map(String.init) ?? "")

        let decorated = try JSONValue.parse(try Self.wick(["trace", try #require(ids["decorated"]?.stringValue), "--json",
                                                           "--data-dir", data]).output)
        #expect(decorated["name"]?.stringValue == "rag")
        #expect(decorated["userId"]?.stringValue == "user-7" && decorated["sessionId"]?.stringValue == "session-3")
        #expect(decorated["tags"] == .array(["sdk-v2", "test"]))
        let observations = decorated["observations"]?.arrayValue ?? []
        #expect(Set(observations.compactMap { $0["name"]?.stringValue }) == ["retrieve", "answer"])
        let generation = try #require(observations.first { $0["type"]?.stringValue == "GENERATION" })
        #expect(generation["model"]?.stringValue == "gpt-4o")
        #expect(generation["usageDetails"]?["input"]?.numberValue?.int64Value == 1200)
        #expect(generation["usageDetails"]?["output"]?.numberValue?.int64Value == 300)
        // gpt-4o: 1200 × $2.50/M + 300 × $10/M.
        #expect(generation["calculatedTotalCost"]?.numberValue?.text == "0.006")
        #expect(decorated["scores"]?.arrayValue?.first?["name"]?.stringValue == "quality")

        let manual = try JSONValue.parse(try Self.wick(["trace", try #require(ids["manual"]?.stringValue), "--json",
                                                        "--data-dir", data]).output)
        #expect(manual["output"] == .object(["a": "hello"]))
        let steps = manual["observations"]?.arrayValue ?? []
        let span = try #require(steps.first { $0["name"]?.stringValue == "prepare" })
        let call = try #require(steps.first { $0["name"]?.stringValue == "call" })
        #expect(call["parentObservationId"] == span["id"] && call["output"]?.stringValue == "hello")
        let scores = Dictionary(uniqueKeysWithValues: (manual["scores"]?.arrayValue ?? []).compactMap { score in
            score["name"]?.stringValue.map { ($0, score) }
        })
        #expect(scores["correct"]?["dataType"]?.stringValue == "BOOLEAN" && scores["correct"]?["value"]?.numberValue?.doubleValue == 1)
        #expect(scores["tone"]?["dataType"]?.stringValue == "CATEGORICAL" && scores["tone"]?["stringValue"]?.stringValue == "friendly")
        #expect(scores["latency-ok"]?["value"]?.numberValue?.doubleValue == 0.75)
        #expect(scores["relevance"]?["observationId"] == ids["generation"])
    }
}
