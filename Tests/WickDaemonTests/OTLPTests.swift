import Foundation
import Testing
import WickDaemon
import WickIngest
import WickJSON
import WickTestSupport

/// The OTLP endpoint of a live `wick serve`: Langfuse's current Python SDK (v5, OTLP protobuf) and
/// OpenTelemetry's own SDK with GenAI attributes, unchanged, read back through the Langfuse API;
/// OTLP/JSON, gzip, and exports refused as a whole without harm to anything else.
@Suite(.serialized) struct OTLPTests {
    static let python = packageRoot + "/.venv/langfuse5/bin/python"

    static func byName(_ list: JSONValue?) -> [String: JSONValue] {
        Dictionary((list?.arrayValue ?? []).compactMap { item in item["name"]?.stringValue.map { ($0, item) } },
                   uniquingKeysWith: { first, _ in first })
    }

    /// Langfuse's Python SDK v5 (langfuse==5.0.4, opentelemetry-sdk==1.45.2): protobuf exports with
    /// gzip and `x-langfuse-ingestion-version: 4`, scores posted as an array.
    @Test func langfusePythonSDKv5WorksUnchanged() throws {
        let temp = TemporaryDirectory("wot")
        let daemon = try APIDaemon(temp, project: "otel")
        defer { daemon.stop() }
        let ids = try daemon.client("langfuse_v5.py", environment: [
            "LANGFUSE_BASE_URL": "http://" + daemon.address, "LANGFUSE_PUBLIC_KEY": daemon.publicKey,
            "LANGFUSE_SECRET_KEY": daemon.secretKey,
        ])
        let decorated = try daemon.trace(try #require(ids["decorated"]?.stringValue))
        #expect(decorated["name"]?.stringValue == "rag")
        #expect(decorated["userId"]?.stringValue == "user-7" && decorated["sessionId"]?.stringValue == "session-3")
        #expect(decorated["tags"] == .array(["otel", "sdk-v5"]))
        #expect(decorated["input"]?["args"] == .array(["What does Wick keep?"]))
        let observations = Self.byName(decorated["observations"])
        #expect(Set(observations.keys) == ["rag", "retrieve", "answer"])
        let root = try #require(observations["rag"])
        #expect(root["parentObservationId"] == .null && root["type"]?.stringValue == "SPAN")
        #expect(observations["retrieve"]?["parentObservationId"] == root["id"])
        let generation = try #require(observations["answer"])
        #expect(generation["id"] == ids["generation"] && generation["parentObservationId"] == root["id"])
        #expect(generation["type"]?.stringValue == "GENERATION" && generation["model"]?.stringValue == "gpt-4o")
        #expect(generation["modelParameters"] == .object(["temperature": 0.2, "max_tokens": 256]))
        #expect(generation["usageDetails"]?["input"] == 1200 && generation["usageDetails"]?["output"] == 300)
        // gpt-4o: 1200 × $2.50/M + 300 × $10/M.
        #expect(generation["calculatedTotalCost"]?.numberValue?.text == "0.006")
        #expect(decorated["totalCost"]?.numberValue?.text == "0.006")
        let scores = Self.byName(decorated["scores"])
        #expect(scores["quality"]?["value"]?.numberValue?.doubleValue == 0.9 && scores["quality"]?["comment"]?.stringValue == "good")
        #expect(scores["correct"]?["dataType"]?.stringValue == "BOOLEAN")
        #expect(scores["tone"]?["stringValue"]?.stringValue == "friendly")
        #expect(scores["relevance"]?["observationId"] == ids["generation"])

        let manual = try daemon.trace(try #require(ids["manual"]?.stringValue))
        #expect(manual["name"]?.stringValue == "manual" && manual["output"] == .object(["a": "hello"]))
        let steps = Self.byName(manual["observations"])
        #expect(steps["call"]?["parentObservationId"] == steps["manual"]?["id"])
        #expect(steps["call"]?["model"]?.stringValue == "gpt-4o-mini" && steps["call"]?["output"]?.stringValue == "hello")
        #expect(steps["call"]?["usageDetails"]?["input"] == 500)

        // The events went through the log like any other: `wick export` has them, tagged otlp nowhere
        // but in the metrics.
        let exported = try LangfuseAPITests.wick(["export", "--data-dir", daemon.data]).output
        #expect(exported.contains("otel-\(ids["decorated"]?.stringValue ?? "")-"))
    }

    /// OpenTelemetry's SDK and OTLP/HTTP exporter, GenAI semantic conventions, no Langfuse code.
    @Test func openTelemetryGenAISpansBecomeGenerationsWithCost() throws {
        let temp = TemporaryDirectory("wog")
        let daemon = try APIDaemon(temp, project: "otel")
        defer { daemon.stop() }
        let credentials = Data("\(daemon.publicKey):\(daemon.secretKey)".utf8).base64EncodedString()
        let ids = try daemon.client("otel_genai.py", environment: [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://\(daemon.address)/api/public/otel",
            "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Basic%20\(credentials)",
        ])
        let trace = try daemon.trace(try #require(ids["trace"]?.stringValue))
        #expect(trace["name"]?.stringValue == "invoke_agent support")
        #expect(trace["userId"]?.stringValue == "user-42" && trace["sessionId"]?.stringValue == "conv-9")
        #expect(trace["environment"]?.stringValue == "staging")
        let observations = Self.byName(trace["observations"])
        let agent = try #require(observations["invoke_agent support"])
        #expect(agent["type"]?.stringValue == "AGENT")
        let chat = try #require(observations["chat claude-sonnet-4"])
        #expect(chat["type"]?.stringValue == "GENERATION" && chat["parentObservationId"] == agent["id"])
        #expect(chat["model"]?.stringValue == "claude-sonnet-4-20250514")
        #expect(chat["modelParameters"] == .object(["temperature": "0.3", "max_tokens": "1024"]))
        #expect(chat["usageDetails"]?["input"] == 2000 && chat["usageDetails"]?["output"] == 400)
        // claude-sonnet-4: 2000 × $3/M + 400 × $15/M.
        #expect(chat["calculatedTotalCost"]?.numberValue?.text == "0.012")
        #expect(chat["input"]?[0]?["role"]?.stringValue == "user" && chat["output"]?[0]?["role"]?.stringValue == "assistant")
        let tool = try #require(observations["lookup_order"])
        #expect(tool["type"]?.stringValue == "TOOL" && tool["input"] == .object(["order": 17]))
        let embedding = try #require(observations["embeddings text-embedding-3-small"])
        #expect(embedding["type"]?.stringValue == "EMBEDDING" && embedding["level"]?.stringValue == "ERROR")
        #expect(embedding["statusMessage"]?.stringValue == "rate limited")
        #expect(embedding["usageDetails"]?["input"] == 300)
        #expect(chat["metadata"]?["resourceAttributes"]?["service.name"]?.stringValue == "support-bot")
    }

    @Test func jsonGzipAndBadExportsAnswerAsLangfuseDoes() throws {
        let temp = TemporaryDirectory("wob")
        let daemon = try APIDaemon(temp, project: "otel")
        defer { daemon.stop() }
        func post(_ body: [UInt8], type: String? = "application/json", headers: [(String, String)] = [],
                  path: String = "/api/public/otel/v1/traces") throws -> (status: Int, body: String) {
            var all = [daemon.auth] + headers
            if let type { all.append(("Content-Type", type)) }
            return try MetricsClient.request(daemon.address, method: "POST", path: path, headers: all, body: body)
        }
        func span(_ trace: String, _ name: String) -> String {
            #"{"resourceSpans":[{"scopeSpans":[{"scope":{"name":"app"},"spans":[{"traceId":"\#(trace)","spanId":"051581bf3cb55c13","name":"\#(name)","startTimeUnixNano":"1735725600000000000","endTimeUnixNano":"1735725601200000000","attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"8"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":2}}]}]}]}]}"#
        }
        let first = "5b8aa5a2d2c872e8321cf37308d69df2"
        let ok = try post(Array(span(first, "plain").utf8))
        #expect(ok.status == 200 && ok.body == "{}")
        let second = "6b8aa5a2d2c872e8321cf37308d69df2"
        let zipped = try post(try LangfuseAPITests.gzip(Array(span(second, "zipped").utf8)), headers: [("Content-Encoding", "gzip")])
        #expect(zipped.status == 200, "\(zipped.body)")
        #expect(try post(Array(#"{"resourceSpans":[]}"#.utf8)).status == 200)
        #expect(try post([], path: "/api/public/otel/v1/metrics").status == 200)

        // Refused as a whole, with a reason, and nothing of them stored.
        let third = "7b8aa5a2d2c872e8321cf37308d69df2"
        var refusals: [(status: Int, body: String)] = []
        refusals.append(try post(Array(span(third, "x").utf8), type: "text/plain"))
        refusals.append(try post(Array(span(third, "x").utf8), type: "application/x-protobuf"))
        refusals.append(try post(Array(span(third, "x").utf8).dropLast(9).map { $0 }, type: "application/json"))
        refusals.append(try post(Array(#"{"resourceLogs":[{"scopeLogs":[]}]}"#.utf8)))
        refusals.append(try post(Array(span(third, "x").replacingOccurrences(of: #""spanId":"051581bf3cb55c13","#, with: "").utf8)))
        refusals.append(try post(Array(span(third, "x").utf8), headers: [("x-langfuse-ingestion-version", "5")]))
        for refusal in refusals {
            #expect(refusal.status == 400, "\(refusal.body)")
            let message = try JSONValue.parse(refusal.body)["message"]?.stringValue ?? ""
            #expect(!message.isEmpty)
        }
        #expect(try JSONValue.parse(refusals[0].body)["error"]?.stringValue == "Invalid content type")
        #expect(refusals[3].body.contains("logs export"))
        #expect(refusals[4].body.contains("spanId"))
        let unauthorized = try MetricsClient.request(daemon.address, method: "POST", path: "/api/public/otel/v1/traces",
                                                     headers: [("Content-Type", "application/json")], body: Array(span(third, "x").utf8))
        #expect(unauthorized.status == 401)
        #expect(try MetricsClient.request(daemon.address, method: "GET", path: "/api/public/traces/\(third)",
                                          headers: [daemon.auth]).status == 404)

        // The accepted ones are whole: a generation with usage and cost; and version 4 is accepted.
        #expect(try post(Array(span(third, "v4").utf8), headers: [("x-langfuse-ingestion-version", "4")]).status == 200)
        for (id, name) in [(first, "plain"), (second, "zipped"), (third, "v4")] {
            let trace = try daemon.trace(id)
            #expect(trace["name"]?.stringValue == name)
            let generation = try #require(trace["observations"]?[0])
            #expect(generation["type"]?.stringValue == "GENERATION" && generation["usageDetails"]?["output"] == 2)
            #expect(generation["calculatedTotalCost"]?.numberValue != nil)
        }
        // Sending the same export again (an exporter's retry) changes nothing: same event ids.
        #expect(try post(Array(span(first, "plain").utf8)).status == 200)
        #expect(try daemon.trace(first)["observations"]?.arrayValue?.count == 1)
    }
}

/// Wick → `otlp` sink → a second Wick's OTLP endpoint: the central rebuilds the same traces.
@Suite(.serialized) struct OTLPSinkTests {
    /// A central daemon, and an edge replaying into it through the otlp sink `central`, with
    /// `settings` (YAML lines) besides its URL and keys.
    struct Pair {
        /// Kept: the directory goes when the last reference does.
        let temp: TemporaryDirectory
        let central: String
        let edge: String
        let centralDaemon: ServeProcess
        let edgeDaemon: ServeProcess
        let centralKey: String
        let centralSecret: String

        init(_ temp: TemporaryDirectory, settings: [String]) throws {
            self.temp = temp
            central = temp.file("central")
            edge = temp.file("edge")
            let port = try ReplayTests.freePort()
            centralDaemon = try ServeProcess(dataDirectory: central, arguments: ["--http", "127.0.0.1:\(port)", "--log-level", "error"])
            (centralKey, centralSecret) = try APIDaemon.createKeys(project: "fleet", data: central)
            let lines = ["kind: otlp", "url: http://127.0.0.1:\(port)", "public-key: \(centralKey)", "secret-key: \(centralSecret)",
                         "backoff-initial-ms: 20", "backoff-max-ms: 200"] + settings
            try (["replay:", "  sinks: [central]", "sinks:", "  central:"] + lines.map { "    " + $0 }).joined(separator: "\n")
                .write(toFile: temp.file("edge.yaml"), atomically: true, encoding: .utf8)
            edgeDaemon = try ServeProcess(dataDirectory: edge, arguments: ["--config", temp.file("edge.yaml"), "--log-level", "error"])
        }

        func stop() {
            edgeDaemon.kill(SIGTERM)
            centralDaemon.kill(SIGTERM)
        }

        /// `wick stats` of the edge once the sink has caught up.
        func caughtUp() -> String {
            var stats = ""
            #expect(waitUntil(.seconds(60)) {
                stats = (try? run(builtExecutable("wick"), ["stats", "--data-dir", edge]).output) ?? ""
                return stats.contains(#/replay to central \(otlp\): \d+ events delivered, lag 0 records/#)
            }, "\(stats)")
            return stats
        }
    }

    @Test func anOTLPSinkIntoASecondWickGivesTheSameTrees() async throws {
        // Small batches: most traces fall into several, so they are sent again as they grow.
        let pair = try Pair(TemporaryDirectory("wos"), settings: ["batch-events: 40"])
        defer { pair.stop() }
        let (central, edge, centralDaemon, edgeDaemon) = (pair.central, pair.edge, pair.centralDaemon, pair.edgeDaemon)
        let (centralKey, centralSecret) = (pair.centralKey, pair.centralSecret)
        let (edgeKey, edgeSecret) = try APIDaemon.createKeys(project: "default", data: edge)

        let input = try corpus(traces: 30, seed: 21)
        _ = try Sender.send(input, options: SendOptions(target: .unixStream(path: try #require(edgeDaemon.announcement.unix)),
                                                        acknowledged: true))
        let stats = pair.caughtUp()
        #expect(stats.contains(#/replay to central \(otlp\): \d+ events delivered, lag 0 records, \d+ retries, 0 refused/#), "\(stats)")

        let traceIDs = Set(input.split(separator: 0x0A).compactMap { line -> String? in
            let event = try? JSONValue.parse(Array(line))
            return event?["type"]?.stringValue == "trace-create" ? event?["body"]?["id"]?.stringValue : nil
        })
        #expect(traceIDs.count == 30)
        func read(_ address: String, _ auth: (String, String), _ id: String) throws -> JSONValue {
            let response = try MetricsClient.request(address, method: "GET", path: "/api/public/traces/\(id)", headers: [auth])
            #expect(response.status == 200, "\(id): \(response.body)")
            return try JSONValue.parse(response.body)
        }
        let edgeAddress = try #require(edgeDaemon.announcement.http)
        let centralAddress = try #require(centralDaemon.announcement.http)
        var observations = 0
        var scores = 0
        for id in traceIDs.sorted() {
            let a = try read(edgeAddress, APIDaemon.basic(edgeKey, edgeSecret), id)
            let b = try read(centralAddress, APIDaemon.basic(centralKey, centralSecret), id)
            for field in ["id", "name", "timestamp", "userId", "sessionId", "tags", "input", "output", "metadata", "release",
                          "version", "environment", "public", "totalCost"] {
                #expect(a[field] == b[field], "trace \(id) \(field): \(a[field]?.description ?? "nil") vs \(b[field]?.description ?? "nil")")
            }
            let left = OTLPTests.byID(a["observations"])
            let right = OTLPTests.byID(b["observations"])
            #expect(Set(left.keys) == Set(right.keys), "trace \(id): observations")
            for (observation, x) in left {
                for field in ["type", "name", "parentObservationId", "startTime", "endTime", "completionStartTime", "model",
                              "modelParameters", "usageDetails", "costDetails", "calculatedTotalCost", "input", "output",
                              "metadata", "level", "statusMessage", "version", "promptName", "promptVersion"] {
                    #expect(x[field] == right[observation]?[field],
                            "observation \(observation) \(field): \(x[field]?.description ?? "nil") vs \(right[observation]?[field]?.description ?? "nil")")
                }
            }
            observations += left.count
            let edgeScores = OTLPTests.byID(a["scores"])
            let centralScores = OTLPTests.byID(b["scores"])
            #expect(Set(edgeScores.keys) == Set(centralScores.keys), "trace \(id): scores")
            for (score, x) in edgeScores {
                for field in ["name", "value", "stringValue", "dataType", "observationId", "comment", "timestamp"] {
                    #expect(x[field] == centralScores[score]?[field], "score \(score) \(field)")
                }
            }
            scores += edgeScores.count
        }
        #expect(observations > 60 && scores > 0)
        // The central got the traces as spans (event ids from the OTLP mapping), the scores as they came.
        let exported = try run(builtExecutable("wick"), ["export", "--data-dir", central]).output.split(separator: "\n")
        let ids = exported.compactMap { try? JSONValue.parse(String($0))["id"]?.stringValue }
        #expect(ids.filter { $0.hasPrefix("otel-") }.count >= observations)
        #expect(ids.filter { !$0.hasPrefix("otel-") }.count == scores)
    }
}

extension OTLPSinkTests {
    /// A backend that takes spans only: scores have no OTLP form, so they are refused into the
    /// dead-letter log, counted, while the traces still go.
    @Test func withoutAScoresPathScoresAreDeadLetteredNotDropped() async throws {
        let pair = try Pair(TemporaryDirectory("wsn"), settings: [#"scores-path: """#])
        defer { pair.stop() }
        let (central, edge, edgeDaemon) = (pair.central, pair.edge, pair.edgeDaemon)
        let input = try corpus(traces: 10, seed: 8)
        let scoreCount = input.split(separator: 0x0A).filter { line in
            (try? JSONValue.parse(Array(line)))?["type"]?.stringValue == "score-create"
        }.count
        #expect(scoreCount > 0)
        _ = try Sender.send(input, options: SendOptions(target: .unixStream(path: try #require(edgeDaemon.announcement.unix)),
                                                        acknowledged: true))
        let stats = pair.caughtUp()
        #expect(stats.contains("\(scoreCount) refused"), "\(stats)")
        // Dead letters are written by their own group commit: wait for it.
        var rejects: [Substring] = []
        #expect(waitUntil(.seconds(10)) {
            rejects = ((try? run(builtExecutable("wick"), ["rejects", "--reason", "replay_rejected", "--json", "--limit", "1000",
                                                           "--data-dir", edge]).output) ?? "").split(separator: "\n")
            return rejects.count >= scoreCount
        })
        #expect(rejects.count == scoreCount)
        #expect(rejects.allSatisfy { $0.contains("otlp_no_span_form") })
        // The traces went all the same.
        let exported = try run(builtExecutable("wick"), ["export", "--data-dir", central]).output
        #expect(exported.contains("otel-") && !exported.contains("score-create"))
    }
}

extension OTLPTests {
    static func byID(_ list: JSONValue?) -> [String: JSONValue] {
        Dictionary((list?.arrayValue ?? []).compactMap { item in item["id"]?.stringValue.map { ($0, item) } },
                   uniquingKeysWith: { first, _ in first })
    }
}

extension APIDaemon {
    /// Runs a client script of Tests/Clients in the SDK v5 venv; its last line of output is JSON.
    func client(_ script: String, environment extra: [String: String]) throws -> JSONValue {
        #expect(FileManager.default.isExecutableFile(atPath: OTLPTests.python), "run `make venvs` (make test does)")
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in extra { environment[key] = value }
        let result = try run(OTLPTests.python, [packageRoot + "/Tests/Clients/" + script], environment: environment,
                             timeout: .seconds(120))
        #expect(result.termination == .exited(0), "\(result.errors)")
        // The SDKs log export and score failures on stderr without failing.
        #expect(!result.errors.contains("Failed to export") && !result.errors.contains("API error"), "\(result.errors)")
        return try JSONValue.parse(result.output.split(separator: "\n").last.map(String.init) ?? "")
    }
}
