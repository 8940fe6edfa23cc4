import Foundation
import Testing
import WickDaemon
import WickIngest
import WickJSON
import WickReplay
import WickTestSupport

/// Replay over https: a central Wick behind a TLS-terminating proxy (Tests/Clients/tls_proxy.py,
/// with certificates openssl makes for the test), as central servers are deployed. The CA file is
/// trusted; a certificate nobody vouches for, or one for another name, is refused.
@Suite(.serialized) struct TLSTests {
    struct Certificate {
        let path: String
        let key: String
    }

    /// A self-signed certificate for `names` (openssl's subjectAltName syntax).
    static func certificate(_ temp: TemporaryDirectory, _ label: String, names: String) throws -> Certificate {
        let made = Certificate(path: temp.file("\(label).pem"), key: temp.file("\(label)-key.pem"))
        let result = try run("/usr/bin/env", ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                              "-nodes", "-days", "2", "-subj", "/CN=\(label)", "-addext", "subjectAltName=\(names)",
                                              "-keyout", made.key, "-out", made.path])
        try #require(result.termination == .exited(0), "\(result.errors)")
        return made
    }

    /// The proxy, serving `certificate` on a free port of 127.0.0.1, in front of `backend`.
    static func proxy(_ temp: TemporaryDirectory, _ certificate: Certificate, to backend: String) throws -> (ChildProcess, port: Int) {
        let proxy = try ChildProcess("/usr/bin/env", ["python3", packageRoot + "/Tests/Clients/tls_proxy.py", certificate.path,
                                                      certificate.key, backend],
                                     environment: ProcessInfo.processInfo.environment, stderrPath: temp.file("proxy.err"))
        guard let line = proxy.readLine(timeout: .seconds(20)), let port = Int(line) else {
            proxy.kill()
            throw SetupError("the TLS proxy did not start: \(fileText(temp.file("proxy.err")))")
        }
        return (proxy, port)
    }

    /// A data directory with `traces` traces of the corpus in it, no daemon running on it.
    static func source(_ temp: TemporaryDirectory, traces: Int) throws -> (directory: String, lines: Int) {
        let directory = temp.file("source")
        let daemon = try ServeProcess(dataDirectory: directory, arguments: ["--log-level", "error"])
        defer { daemon.kill(SIGTERM) }
        let input = try corpus(traces: traces, seed: 31)
        _ = try Sender.send(input, options: SendOptions(target: .unixStream(path: try #require(daemon.announcement.unix)), acknowledged: true))
        return (directory, input.split(separator: 0x0A, omittingEmptySubsequences: true).count)
    }

    @Test func urlsNameTheirSchemeHostPortAndPrefix() {
        let plain = Endpoint(url: "http://central:3000/langfuse/")
        #expect(plain == Endpoint(url: "http://central:3000/langfuse"))
        #expect(plain?.address == "central:3000" && plain?.host == "central" && plain?.prefix == "/langfuse" && plain?.tls == false)
        let secure = Endpoint(url: "https://cloud.langfuse.com")
        #expect(secure?.address == "cloud.langfuse.com:443" && secure?.prefix == "" && secure?.tls == true)
        #expect(Endpoint(url: "http://central")?.address == "central:80")
        let six = Endpoint(url: "https://[::1]:8443/x")
        #expect(six?.address == "[::1]:8443" && six?.host == "::1" && six?.prefix == "/x")
        #expect(Endpoint(url: "https://[::1]")?.address == "[::1]:443")
        for bad in ["central:3000", "ftp://central", "http://", "http://:3000", "https://central:0", "https://central:70000",
                    "http://central:port", "https://[::1", "https://[::1]x", "http://user@central"] {
            #expect(Endpoint(url: bad) == nil, "\(bad)")
        }
    }

    /// `wick replay --from DIR --to https://…` with the proxy's certificate as the CA file ships
    /// every event; without it, or with a certificate for another name, the run stops at once with
    /// the reason instead of retrying for ever.
    @Test func aCopiedDirectoryIsShippedOverHTTPSToATrustedServerOnly() throws {
        let temp = TemporaryDirectory("wtl")
        let (copied, lines) = try Self.source(temp, traces: 20)
        let central = try APIDaemon(temp, project: "fleet")
        defer { central.stop() }
        let good = try Self.certificate(temp, "central", names: "DNS:localhost,IP:127.0.0.1")
        let other = try Self.certificate(temp, "elsewhere", names: "DNS:elsewhere.test")
        let (proxy, port) = try Self.proxy(temp, good, to: central.address)
        defer { proxy.kill() }
        var environment = ProcessInfo.processInfo.environment
        environment["LANGFUSE_PUBLIC_KEY"] = central.publicKey
        environment["LANGFUSE_SECRET_KEY"] = central.secretKey
        func replay(_ url: String, _ extra: [String]) throws -> (termination: ChildProcess.Termination?, output: String, errors: String) {
            try run(builtExecutable("wick"), ["replay", "--from", copied, "--to", url, "--json", "--backoff-max-ms", "200"] + extra,
                    environment: environment, timeout: .seconds(60))
        }

        let untrusted = try replay("https://127.0.0.1:\(port)", [])
        #expect(untrusted.termination == .exited(1))
        #expect(untrusted.errors.contains("the certificate of 127.0.0.1 is not trusted"), "\(untrusted.errors)")
        let misnamed = try replay("https://127.0.0.1:\(port)", ["--ca-file", other.path])
        #expect(misnamed.termination == .exited(1))
        #expect(misnamed.errors.contains("not trusted"), "\(misnamed.errors)")
        let notPEM = try replay("https://127.0.0.1:\(port)", ["--ca-file", copied + "/LOCK"])
        #expect(notPEM.termination == .exited(1))
        #expect(notPEM.errors.contains("cannot load CA certificates"), "\(notPEM.errors)")
        #expect(try ReplayTests.eventIDs(central.data).isEmpty)

        let shipped = try replay("https://localhost:\(port)", ["--ca-file", good.path])
        #expect(shipped.termination == .exited(0), "\(shipped.errors)")
        #expect(try JSONValue.parse(shipped.output)["events"]?.numberValue?.int64Value == Int64(lines))
        #expect(try ReplayTests.eventIDs(central.data).count == lines)
    }

    /// The daemon's `langfuse` and `otlp` sinks with `ca-file`, over the proxy: the central receives
    /// every event (as it came, or as spans).
    @Test(arguments: ["langfuse", "otlp"])
    func aDaemonSinkReplaysOverHTTPS(_ kind: String) throws {
        let temp = TemporaryDirectory("wts")
        let central = try APIDaemon(temp, project: "fleet")
        defer { central.stop() }
        let certificate = try Self.certificate(temp, "central", names: "IP:127.0.0.1")
        let (proxy, port) = try Self.proxy(temp, certificate, to: central.address)
        defer { proxy.kill() }
        let settings = ["kind: \(kind)", "url: https://127.0.0.1:\(port)", "public-key: \(central.publicKey)",
                        "secret-key: \(central.secretKey)", "ca-file: \(certificate.path)", "backoff-initial-ms: 20",
                        "backoff-max-ms: 200"]
        try (["replay:", "  sinks: [central]", "sinks:", "  central:"] + settings.map { "    " + $0 }).joined(separator: "\n")
            .write(toFile: temp.file("edge.yaml"), atomically: true, encoding: .utf8)
        let edgeData = temp.file("edge")
        let edge = try ServeProcess(dataDirectory: edgeData, arguments: ["--config", temp.file("edge.yaml"), "--log-level", "error"])
        defer { edge.kill(SIGTERM) }
        let input = try corpus(traces: 20, seed: 32)
        let lines = input.split(separator: 0x0A, omittingEmptySubsequences: true).count
        _ = try Sender.send(input, options: SendOptions(target: .unixStream(path: try #require(edge.announcement.unix)), acknowledged: true))
        var stats = ""
        #expect(waitUntil(.seconds(60)) {
            stats = (try? run(builtExecutable("wick"), ["stats", "--data-dir", edgeData]).output) ?? ""
            return stats.contains("replay to central (\(kind)): \(lines) events delivered, lag 0 records")
        }, "\(stats)")
        let received = try ReplayTests.eventIDs(central.data)
        if kind == "langfuse" {
            #expect(received.count == lines)
        } else {
            // Spans become events of the central's own ids: one trace-create for each trace at least.
            let traces = try TraceCommandTests.Expected(input).observations.count
            #expect(traces > 0 && received.count >= traces, "\(received.count) events for \(traces) traces")
        }
    }
}
