import WickReplay

/// Talks to the running daemon's HTTP servers on loopback (its metrics page for `wick stats`,
/// `POST /wick/compact` for `wick compact`) without an HTTP client library.
public enum MetricsClient: Sendable {
    public static func fetch(_ address: String, path: String = "/metrics", method: String = "GET",
                             timeoutSeconds: Int = 5) throws -> String {
        let response = try request(address, method: method, path: path, timeoutSeconds: timeoutSeconds)
        guard response.status == 200 else {
            throw ConfigurationError(key: "metrics", message: "HTTP \(response.status) from \(address): \(response.body.prefix(500))")
        }
        return response.body
    }

    /// One HTTP/1.0 request on loopback: the status and the body.
    public static func request(_ address: String, method: String, path: String, headers: [(String, String)] = [],
                               body: [UInt8] = [], timeoutSeconds: Int = 5) throws -> (status: Int, body: String) {
        do {
            let response = try PlainHTTP.request(address, method: method, path: path, headers: headers, body: body,
                                                 timeoutSeconds: timeoutSeconds)
            return (response.status, response.body)
        } catch {
            throw ConfigurationError(key: "metrics", message: error.description)
        }
    }

    /// Samples of a Prometheus text page: `name{labels}` → value.
    public static func parse(_ page: String) -> [(name: String, labels: [String: String], value: Double)] {
        var samples: [(String, [String: String], Double)] = []
        for line in page.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            var labels: [String: String] = [:]
            var name = String(series)
            if let open = series.firstIndex(of: "{"), series.hasSuffix("}") {
                name = String(series[..<open])
                let inner = series[series.index(after: open)..<series.index(before: series.endIndex)]
                for pair in inner.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    if parts.count == 2 { labels[String(parts[0])] = String(parts[1].dropFirst().dropLast()) }
                }
            }
            samples.append((name, labels, value))
        }
        return samples
    }
}
