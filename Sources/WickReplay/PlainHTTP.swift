import CWickLinux

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.0 request over a TCP connection, blocking, with a timeout, in the clear or over TLS:
/// what a replay thread and the commands that talk to a local daemon need, without an HTTP client
/// library.
public enum PlainHTTP: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var body: String
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
        /// The server's TLS certificate is not trusted, or does not name the host: trying again will
        /// not help until the server or the CA file changes.
        public var untrusted = false

        public init(description: String, untrusted: Bool = false) {
            self.description = description
            self.untrusted = untrusted
        }
    }

    /// `address` is HOST:PORT.
    public static func request(_ address: String, method: String, path: String, headers: [(String, String)] = [],
                               body: [UInt8] = [], timeoutSeconds: Int = 5) throws(Failure) -> Response {
        try request(address, method: method, path: path, headers: headers, body: body, timeoutMilliseconds: timeoutSeconds * 1000)
    }

    /// `address` is HOST:PORT; the timeout bounds each send and each read. With `tls`, the request
    /// goes over TLS to a server whose certificate names HOST.
    public static func request(_ address: String, method: String, path: String, headers: [(String, String)] = [],
                               body: [UInt8] = [], timeoutMilliseconds: Int, tls: TLSClient? = nil) throws(Failure) -> Response {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw Failure(description: "bad address \(address)")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var hints = addrinfo()
        hints.ai_socktype = CWickLinux_SOCK_STREAM()
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, CWickLinux_SOCK_STREAM() | CWickLinux_SOCK_CLOEXEC(), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            throw Failure(description: "cannot connect to \(address): \(String(cString: strerror(errno)))")
        }
        var session: UnsafeMutableRawPointer?
        if let tls {
            var error = [CChar](repeating: 0, count: 512)
            var untrusted: Int32 = 0
            session = CWickLinux_tls_connect(tls.context, fd, host, &untrusted, &error, error.count)
            guard session != nil else { throw Failure(description: "\(address): \(messageText(error))", untrusted: untrusted != 0) }
        }
        defer { if let session { CWickLinux_tls_close(session) } }
        var head = "\(method) \(path) HTTP/1.0\r\nHost: \(address)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { bytes in
                if let session { CWickLinux_tls_write(session, bytes.baseAddress!, bytes.count) } else { send(bytes.baseAddress!, fd: fd, count: bytes.count) }
            }
            // Over TLS an interrupted or timed-out write fails the request (the replay tries it again).
            if count < 0 && session == nil && errno == EINTR { continue }
            guard count > 0 else {
                throw Failure(description: "send to \(address): \(session == nil ? String(cString: strerror(errno)) : "TLS error")")
            }
            sent += count
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = if let session { CWickLinux_tls_read(session, &buffer, buffer.count) } else { read(fd, &buffer, buffer.count) }
            if count < 0 && session == nil && errno == EINTR { continue }
            if count < 0 { throw Failure(description: "read from \(address): \(session == nil ? String(cString: strerror(errno)) : "TLS error")") }
            guard count > 0 else { break }
            response.append(contentsOf: buffer[0..<count])
        }
        return try parse(response, from: address)
    }

    /// The status and body of a whole response; one shorter than its Content-Length says is a failure
    /// (a connection cut mid-answer must not pass for an answer).
    static func parse(_ response: [UInt8], from address: String) throws(Failure) -> Response {
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.firstRange(of: "\r\n\r\n"), text.hasPrefix("HTTP/1."), let status = Int(text.dropFirst(9).prefix(3)) else {
            throw Failure(description: "no HTTP response from \(address)")
        }
        let body = text[split.upperBound...]
        let bodyBytes = response.count - text[..<split.upperBound].utf8.count
        for line in text[..<split.lowerBound].split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == "content-length" else { continue }
            let declared = Int(line[line.index(after: colon)...].trimmingPrefix(" ")) ?? -1
            guard declared == bodyBytes else {
                throw Failure(description: "a response from \(address) of \(bodyBytes) bytes where Content-Length says \(declared)")
            }
        }
        return Response(status: status, body: String(body))
    }

    private static func send(_ pointer: UnsafeRawPointer, fd: Int32, count: Int) -> Int {
        Glibc.send(fd, pointer, count, Int32(MSG_NOSIGNAL))
    }

    /// Base64 of `user:password`, for Basic auth.
    public static func basicAuthorization(_ user: String, _ password: String) -> String {
        let bytes = Array("\(user):\(password)".utf8)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = (UInt32(chunk[0]) << 16) | (UInt32(chunk.count > 1 ? chunk[1] : 0) << 8) | UInt32(chunk.count > 2 ? chunk[2] : 0)
            out.append(alphabet[Int(value >> 18 & 63)])
            out.append(alphabet[Int(value >> 12 & 63)])
            out.append(chunk.count > 1 ? alphabet[Int(value >> 6 & 63)] : UInt8(ascii: "="))
            out.append(chunk.count > 2 ? alphabet[Int(value & 63)] : UInt8(ascii: "="))
            index += 3
        }
        return "Basic " + String(decoding: out, as: UTF8.self)
    }

    /// Gzip of `bytes` (level 1: replay compresses on the way out, cheaply).
    public static func gzip(_ bytes: [UInt8], level: Int32 = 1) -> [UInt8]? {
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        let status = bytes.withUnsafeBufferPointer { CWickLinux_gzip($0.baseAddress, $0.count, level, &out, &length) }
        defer { free(out) }
        guard status == 0, let out else { return nil }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }

    /// Zstd of `bytes` as one frame (level 1, for the same reason).
    public static func zstd(_ bytes: [UInt8], level: Int32 = 1) -> [UInt8]? {
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        let status = bytes.withUnsafeBufferPointer { CWickLinux_zstd($0.baseAddress, $0.count, level, &out, &length) }
        defer { free(out) }
        guard status == 0, let out else { return nil }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }
}
