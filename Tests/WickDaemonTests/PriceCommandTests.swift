import Foundation
import Testing
import WickDaemon
import WickIngest
import WickJSON
import WickTestSupport

/// Prices as a user meets them: `wick prices match`, costs in `wick trace` and in the daemon's
/// summaries, and price tables reloaded on SIGHUP.
@Suite(.serialized) struct PriceCommandTests {
    static func wick(_ arguments: [String]) throws -> (status: ChildProcess.Termination?, output: String, errors: String) {
        try TraceCommandTests.wick(arguments)
    }

    static func generation(trace: String, model: String, input: Int, output: Int) -> String {
        let time = "2026-01-01T00:00:00.000Z"
        return """
            {"id":"\(trace)-e1","type":"trace-create","timestamp":"\(time)","body":{"id":"\(trace)","name":"chat"}}
            {"id":"\(trace)-e2","type":"generation-create","timestamp":"\(time)","body":{"id":"\(trace)-g","traceId":"\(trace)","model":"\(model)","usageDetails":{"input":\(input),"output":\(output)}}}

            """
    }

    @Test func pricesMatchShowsTheEntryTierAndCost() throws {
        let matched = try Self.wick(["prices", "match", "gpt-4o-mini", "--usage", "input=1000", "--usage", "output=500", "--json"])
        #expect(matched.status == .exited(0))
        let report = try JSONValue.parse(matched.output)
        #expect(report["match"]?["id"]?.stringValue == "openai/gpt-4o-mini")
        #expect(report["tier"]?["isDefault"]?.boolValue == true)
        #expect(report["cost"]?["total"]?.numberValue?.text == "0.00045")

        let text = try Self.wick(["prices", "match", "us.anthropic.claude-3-5-haiku-20241022-v1:0"])
        #expect(text.output.contains("matches claude-3-5-haiku-20241022"))

        let none = try Self.wick(["prices", "match", "no-such-model"])
        #expect(none.status == .exited(1))
        #expect(none.output.contains("no price entry matches"))

        let temp = TemporaryDirectory("wpm")
        let broken = temp.file("broken.json")
        try #"[{"modelName": "x"}]"#.write(toFile: broken, atomically: true, encoding: .utf8)
        let refused = try Self.wick(["prices", "match", "x", "--prices", broken])
        #expect(refused.status == .exited(2))
        #expect(refused.errors.contains("no matchPattern"))
    }

    @Test func theDaemonPricesTracesAndReloadsItsTablesOnSighup() async throws {
        let temp = TemporaryDirectory("wpr")
        let data = temp.file("data")
        let config = temp.file("wick.yaml")
        let table = temp.file("prices.json")
        let log = temp.file("stderr")
        // A user's table that prices "acme-1" at 1 USD per token.
        try #"[{"modelName": "acme-1", "matchPattern": "(?i)^acme-1$", "prices": {"input": 1, "output": 1}}]"#
            .write(toFile: table, atomically: true, encoding: .utf8)
        try "assembler:\n  settle-ms: 50\nprices:\n  files: \(table)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try ServeProcess(dataDirectory: data, arguments: ["--config", config], logPath: log)
        defer { daemon.kill(SIGTERM) }
        let socket = try #require(daemon.announcement.unix)

        func summary(_ trace: String) throws -> JSONValue? {
            let listed = try Self.wick(["traces", "--json", "--limit", "100", "--data-dir", data]).output
            return try listed.split(separator: "\n").map { try JSONValue.parse(String($0)) }.first { $0["id"]?.stringValue == trace }
        }
        let first = Self.generation(trace: "t1", model: "acme-1", input: 3, output: 4)
            + Self.generation(trace: "t2", model: "gpt-4o-mini", input: 1000, output: 500)
        _ = try Sender.send(Array(first.utf8), options: SendOptions(target: .unixStream(path: socket), acknowledged: true))
        #expect(waitUntil(.seconds(20)) { (try? summary("t2")) != nil && (try? summary("t1")) != nil })
        #expect(try summary("t1")?["totalCost"]?.numberValue?.text == "7")
        #expect(try summary("t2")?["totalCost"]?.numberValue?.text == "0.00045")  // the embedded table

        // `wick trace` prices with the same configuration.
        let shown = try JSONValue.parse(try Self.wick(["trace", "t1", "--json", "--config", config, "--data-dir", data]).output)
        #expect(shown["totalCost"]?.numberValue?.text == "7")
        #expect(shown["observations"]?[0]?["calculatedInputCost"]?.numberValue?.text == "3")
        let unpriced = try JSONValue.parse(try Self.wick(["trace", "t1", "--json", "--data-dir", data]).output)
        #expect(unpriced["totalCost"]?.numberValue?.doubleValue == 0)

        // The table changes: traces settled after the reload use the new prices.
        try #"[{"modelName": "acme-1", "matchPattern": "(?i)^acme-1$", "prices": {"input": 2, "output": 2}}]"#
            .write(toFile: table, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(waitUntil(.seconds(10)) { fileText(log).contains("config.reloaded") })
        _ = try Sender.send(Array(Self.generation(trace: "t3", model: "acme-1", input: 3, output: 4).utf8),
                            options: SendOptions(target: .unixStream(path: socket), acknowledged: true))
        #expect(waitUntil(.seconds(20)) { (try? summary("t3")) != nil })
        #expect(try summary("t3")?["totalCost"]?.numberValue?.text == "14")

        // A table that does not parse is refused and the prices in force stay.
        try "[{".write(toFile: table, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(waitUntil(.seconds(10)) { fileText(log).contains("config.reload-failed") })
        _ = try Sender.send(Array(Self.generation(trace: "t4", model: "acme-1", input: 1, output: 1).utf8),
                            options: SendOptions(target: .unixStream(path: socket), acknowledged: true))
        #expect(waitUntil(.seconds(20)) { (try? summary("t4")) != nil })
        #expect(try summary("t4")?["totalCost"]?.numberValue?.text == "4")
    }
}
