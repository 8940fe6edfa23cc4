import CWickLinux

#if canImport(Glibc)
import Glibc
#endif

/// Fetches the running daemon's metrics page: a plain HTTP/1.0 GET on loopback, so that
/// `wick stats` needs no HTTP client library.
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
        guard let target = HostPort(address) else { throw ConfigurationError(key: "metrics", message: "bad address \(address)") }
        var hints = addrinfo()
        hints.ai_socktype = CWickLinux_SOCK_STREAM()
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(target.host, String(target.port), &hints, &result) == 0, let info = result else {
            throw ConfigurationError(key: "metrics", message: "cannot resolve \(target.host)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, CWickLinux_SOCK_STREAM() | CWickLinux_SOCK_CLOEXEC(), 0)
        guard fd >= 0 else { throw ConfigurationError(key: "metrics", message: "socket failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            throw ConfigurationError(key: "metrics", message: "cannot connect to \(address): \(String(cString: strerror(errno)))")
        }
        var head = "\(method) \(path) HTTP/1.0\r\nHost: \(address)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            sent += count
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            response.append(contentsOf: buffer[0..<count])
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.firstRange(of: "\r\n\r\n"), text.hasPrefix("HTTP/1."),
              let status = Int(text.dropFirst(9).prefix(3))
        else { throw ConfigurationError(key: "metrics", message: "no HTTP response from \(address)") }
        return (status, String(text[split.upperBound...]))
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
