import Foundation
import Testing
import WickDaemon
import WickJSON
import WickTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A `wick serve` with its HTTP API on a free port and one project's key pair, as the tests of the
/// Langfuse API, its OpenAPI conformance and the OTLP endpoint start it. Whoever starts one calls
/// `stop()` in a `defer`.
struct APIDaemon {
    /// Held so that the directory (data, config) lives as long as the daemon.
    let temp: TemporaryDirectory
    let process: ServeProcess
    let data: String
    let address: String
    let publicKey: String
    let secretKey: String
    /// The `Authorization: Basic` header of the key pair.
    let auth: (String, String)

    /// `config` is the YAML the daemon is started with, if any.
    init(_ temp: TemporaryDirectory, project: String, config: String? = nil) throws {
        self.temp = temp
        data = temp.file("data")
        var arguments = ["--log-level", "error"]
        if let config {
            try config.write(toFile: temp.file("wick.yaml"), atomically: true, encoding: .utf8)
            arguments += ["--config", temp.file("wick.yaml")]
        }
        process = try ServeProcess(dataDirectory: data, arguments: arguments)
        address = try #require(process.announcement.http)
        (publicKey, secretKey) = try Self.createKeys(project: project, data: data)
        auth = Self.basic(publicKey, secretKey)
    }

    func stop() {
        process.kill(SIGTERM)
    }

    /// `GET /api/public/traces/{id}`, which must answer 200.
    func trace(_ id: String) throws -> JSONValue {
        let response = try MetricsClient.request(address, method: "GET", path: "/api/public/traces/\(id)", headers: [auth])
        #expect(response.status == 200, "\(response.body)")
        return try JSONValue.parse(response.body)
    }

    /// A key pair made by `wick keys create`, as an operator makes one.
    static func createKeys(project: String, data: String) throws -> (publicKey: String, secretKey: String) {
        let result = try run(builtExecutable("wick"), ["keys", "create", "--project", project, "--json", "--data-dir", data],
                             timeout: .seconds(60))
        let created = try JSONValue.parse(result.output)
        return (try #require(created["publicKey"]?.stringValue), try #require(created["secretKey"]?.stringValue))
    }

    static func basic(_ publicKey: String, _ secret: String) -> (String, String) {
        ("Authorization", "Basic " + Data("\(publicKey):\(secret)".utf8).base64EncodedString())
    }
}
