/// Where a sink's URL points: `http://` or `https://`, HOST[:PORT] (80 and 443 by default), and the
/// path prefix the server's API sits under, if any.
public struct Endpoint: Sendable, Equatable {
    /// HOST:PORT, as the URL spells the host (an IPv6 address in brackets).
    public var address: String
    /// The host without brackets: what the server's certificate must name.
    public var host: String
    public var prefix: String
    public var tls: Bool

    /// What a URL must look like, for error messages.
    public static let expectedForm = "http://HOST[:PORT] or https://HOST[:PORT]"

    public init?(url: String) {
        let rest: Substring
        if url.hasPrefix("http://") {
            rest = url.dropFirst(7)
            tls = false
        } else if url.hasPrefix("https://") {
            rest = url.dropFirst(8)
            tls = true
        } else {
            return nil
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        prefix = String(rest[slash...])
        while prefix.hasSuffix("/") { prefix.removeLast() }
        let authority = rest[..<slash]
        var name = authority
        var port: Substring?
        if authority.hasPrefix("[") {
            guard let closing = authority.firstIndex(of: "]") else { return nil }
            name = authority[authority.index(after: authority.startIndex)..<closing]
            let after = authority[authority.index(after: closing)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                port = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            name = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        if let port {
            guard let number = Int(port), (1...65535).contains(number) else { return nil }
        }
        guard !name.isEmpty, !name.contains("@"), !name.contains("/") else { return nil }
        host = String(name)
        address = port == nil ? authority + (tls ? ":443" : ":80") : String(authority)
    }
}

/// A sink's endpoint with its TLS context, made once when the sink is: what its requests go through.
public struct SinkEndpoint: Sendable {
    public let url: String
    public let endpoint: Endpoint?
    private let tls: Result<TLSClient, PlainHTTP.Failure>?

    public init(url: String, caFile: String?) {
        self.url = url
        endpoint = Endpoint(url: url)
        if endpoint?.tls == true {
            do {
                tls = .success(try TLSClient(caFile: caFile))
            } catch {
                tls = .failure(error)
            }
        } else {
            tls = nil
        }
    }

    /// Throws what would make every request fail: a URL that is not http(s)://HOST[:PORT], or CA
    /// certificates that cannot be loaded.
    public func check() throws(PlainHTTP.Failure) {
        _ = try connection()
    }

    /// `path` under the endpoint's prefix.
    public func request(method: String, path: String, headers: [(String, String)], body: [UInt8],
                        timeoutMilliseconds: Int) throws(PlainHTTP.Failure) -> PlainHTTP.Response {
        let (endpoint, client) = try connection()
        return try PlainHTTP.request(endpoint.address, method: method, path: endpoint.prefix + path, headers: headers,
                                     body: body, timeoutMilliseconds: timeoutMilliseconds, tls: client)
    }

    private func connection() throws(PlainHTTP.Failure) -> (Endpoint, TLSClient?) {
        guard let endpoint else { throw PlainHTTP.Failure(description: "\(url) is not \(Endpoint.expectedForm)") }
        switch tls {
        case .success(let client): return (endpoint, client)
        case .failure(let error): throw error
        case nil: return (endpoint, nil)
        }
    }
}
