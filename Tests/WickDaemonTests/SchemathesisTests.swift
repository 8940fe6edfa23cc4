import Foundation
import Testing
import WickDaemon
import WickJSON
import WickTestSupport

/// schemathesis (pinned in Tests/Clients/requirements-schemathesis.txt, in the venv `make test`
/// creates) against Langfuse's own OpenAPI spec, restricted to the endpoints Wick implements, with
/// a fixed seed and a bounded number of examples: every response conforms to the spec, malformed
/// requests get a 4xx and never a 5xx, methods a path does not take get 405. The few places where
/// the spec and Langfuse itself disagree (and Wick answers as Langfuse does) are dropped, each with
/// its reason, by Tests/Clients/schemathesis_hooks.py.
@Suite(.serialized) struct SchemathesisTests {
    /// Langfuse's operation ids of what Wick serves. (`GET /api/public/metrics/daily` is not in the
    /// spec any more, so schemathesis cannot test it.)
    static let operations = [
        "health_health", "projects_get", "ingestion_batch", "scores_create",
        "trace_list", "trace_get", "legacy_observationsV1_getMany", "legacy_observationsV1_get",
        "scores_get-many", "scores_get-by-id", "sessions_list", "sessions_get",
    ]

    @Test func theAPIConformsToLangfusesOpenAPISpec() throws {
        let schemathesis = packageRoot + "/.venv/schemathesis/bin/schemathesis"
        try #require(FileManager.default.isExecutableFile(atPath: schemathesis), "run `make venvs` (make test does)")
        let spec = URL(fileURLWithPath: packageRoot).deletingLastPathComponent().path + "/shared/reference/langfuse/openapi.yml"
        let temp = TemporaryDirectory("wsc")
        let daemon = try APIDaemon(temp, project: "conformance", config: "assembler:\n  settle-ms: 100\n")
        defer { daemon.stop() }
        let (address, auth) = (daemon.address, daemon.auth)

        // Something to read back: traces with a session, observations of each kind, scores.
        var events: [String] = []
        for n in 0..<3 {
            events.append(LangfuseAPITests.event("t\(n)", "trace-create",
                                                 #"{"id":"tr-\#(n)","name":"chat","userId":"u-1","sessionId":"s-1","tags":["a"]}"#))
            events.append(LangfuseAPITests.event("g\(n)", "generation-create",
                                                 #"{"id":"gen-\#(n)","traceId":"tr-\#(n)","model":"gpt-4o-mini","usageDetails":{"input":10,"output":5}}"#))
            events.append(LangfuseAPITests.event("p\(n)", "span-create", #"{"id":"span-\#(n)","traceId":"tr-\#(n)","name":"step"}"#))
            events.append(LangfuseAPITests.event("v\(n)", "event-create", #"{"id":"ev-\#(n)","traceId":"tr-\#(n)","level":"WARNING"}"#))
            events.append(LangfuseAPITests.event("c\(n)", "score-create", #"{"id":"sc-\#(n)","traceId":"tr-\#(n)","name":"ok","value":1,"dataType":"BOOLEAN"}"#))
        }
        let posted = try MetricsClient.request(address, method: "POST", path: "/api/public/ingestion", headers: [auth],
                                               body: Array((#"{"batch":["# + events.joined(separator: ",") + "]}").utf8))
        #expect(posted.status == 207)
        #expect(waitUntil(.seconds(20)) {
            let list = try? MetricsClient.request(address, method: "GET", path: "/api/public/traces", headers: [auth])
            return (try? JSONValue.parse(list?.body ?? ""))?["meta"]?["totalItems"]?.numberValue?.int64Value == 3
        })

        var environment = ProcessInfo.processInfo.environment
        environment["SCHEMATHESIS_HOOKS"] = "schemathesis_hooks"
        environment["PYTHONPATH"] = packageRoot + "/Tests/Clients"
        // Hypothesis keeps its caches in the working directory unless told otherwise.
        environment["HYPOTHESIS_STORAGE_DIRECTORY"] = temp.file("hypothesis")
        // Half the ids in paths are ones that exist, so that single traces, observations, scores and
        // sessions are checked against the spec too, not only their 404s. Nothing of the run is
        // kept: no cache of crashes (it would go in the working directory), no example database.
        let settings = temp.file("schemathesis.toml")
        try """
            [cache]
            enabled = false

            [dictionaries.traces]
            values = ["tr-0", "tr-1", "tr-2"]

            [dictionaries.observations]
            values = ["gen-0", "span-1", "ev-2"]

            [dictionaries.scores]
            values = ["sc-0", "sc-1", "sc-2"]

            [dictionaries.sessions]
            values = ["s-1"]

            [parameters]
            "path.traceId" = { dictionary = "traces", probability = 0.5 }
            "path.observationId" = { dictionary = "observations", probability = 0.5 }
            "path.scoreId" = { dictionary = "scores", probability = 0.5 }
            "path.sessionId" = { dictionary = "sessions", probability = 0.5 }
            """.write(toFile: settings, atomically: true, encoding: .utf8)
        let arguments = ["--config-file", settings, "run", spec, "--url", "http://" + address, "--auth", "\(daemon.publicKey):\(daemon.secretKey)", "--checks", "all",
                         "--seed", "7", "--max-examples", "15", "--generation-database", "none",
                         // The key is given once for every request; generating Authorization headers
                         // as well would only make cases whose "missing header" the key fills in.
                         "--generation-with-security-parameters", "false",
                         "--request-timeout", "20", "--no-color"]
            + Self.operations.flatMap { ["--include-operation-id", $0] }
        let started = ContinuousClock.now
        let result = try run(schemathesis, arguments, environment: environment, timeout: .seconds(300))
        let output = result.output + result.errors
        #expect(result.termination == .exited(0), "schemathesis found failures:\n\(output.suffix(12_000))")
        #expect(output.contains("Selected: \(Self.operations.count)/"), "\(output.suffix(2000))")
        print("schemathesis: \(ContinuousClock.now - started), \(output.split(separator: "\n").last ?? "")")

        // And the daemon is still there, answering.
        #expect(try MetricsClient.request(address, method: "GET", path: "/api/public/health").status == 200)
    }
}
