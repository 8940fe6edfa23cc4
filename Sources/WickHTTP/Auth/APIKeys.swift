import Synchronization
import WickJSON
import WickModel

#if canImport(Glibc)
import Glibc
#endif

/// One API key pair, as stored: the public key, the SHA-256 of the secret (never the secret), and
/// the project it writes to and reads from.
public struct APIKey: Sendable, Hashable {
    public var project: String
    public var publicKey: String
    public var secretSHA256: String

    public init(project: String, publicKey: String, secretSHA256: String) {
        self.project = project
        self.publicKey = publicKey
        self.secretSHA256 = secretSHA256.lowercased()
    }

    /// `PROJECT:PUBLIC_KEY:SECRET_SHA256`, as the `http.api-keys` setting lists them.
    public init?(setting: String) {
        let parts = setting.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, parts[2].count == 64,
              parts[2].allSatisfy(\.isHexDigit)
        else { return nil }
        self.init(project: parts[0], publicKey: parts[1], secretSHA256: parts[2])
    }

    var line: String {
        let object: JSONValue = .object(["project": .string(project), "publicKey": .string(publicKey),
                                         "secretSHA256": .string(secretSHA256)])
        return String(decoding: object.serialized(), as: UTF8.self)
    }
}

/// Why a request is not let in (Langfuse answers 401 for both).
public enum AuthFailure: Error, Sendable, Equatable {
    case missing
    case invalid(String)

    public var message: String {
        switch self {
        case .missing: "Unauthorized: no Authorization header; use Basic auth with your public and secret key"
        case .invalid(let why): "Unauthorized: \(why)"
        }
    }
}

/// The API keys a daemon accepts: those in `<data-dir>/api-keys.jsonl` (written by `wick keys
/// create`, read again whenever the file changes, so keys made while the daemon runs work at once)
/// and those the configuration lists by hash.
public final class APIKeys: Sendable {
    public let path: String
    private let fixed: [APIKey]
    private let state = Mutex<(modified: Int64, size: Int64, byPublicKey: [String: APIKey])>((-1, -1, [:]))

    public init(path: String, fixed: [APIKey] = []) {
        self.path = path
        self.fixed = fixed
    }

    /// The project of the key pair an `Authorization: Basic base64(pk:sk)` header names.
    public func project(authorization header: String?) -> Result<String, AuthFailure> {
        guard let header, !header.isEmpty else { return .failure(.missing) }
        guard header.lowercased().hasPrefix("basic "),
              let decoded = Base64.decode(String(header.dropFirst(6)).trimmingSpaces),
              let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
        else { return .failure(.invalid("expected Basic auth with public key and secret key")) }
        let publicKey = String(decoding: decoded[..<colon], as: UTF8.self)
        let secret = Array(decoded[(colon + 1)...])
        guard let key = lookup(publicKey) else { return .failure(.invalid("unknown public key")) }
        guard constantTimeEqual(SHA256.hex(secret), key.secretSHA256) else { return .failure(.invalid("wrong secret key")) }
        return .success(key.project)
    }

    /// Basic auth, or `Bearer <public key>` (which Langfuse accepts for score writes only).
    public func project(allowingBearer header: String?) -> Result<String, AuthFailure> {
        guard let header, header.lowercased().hasPrefix("bearer ") else { return project(authorization: header) }
        let publicKey = String(header.dropFirst(7)).trimmingSpaces
        guard let key = lookup(publicKey) else { return .failure(.invalid("unknown public key")) }
        return .success(key.project)
    }

    /// Every key, for `wick keys list` (file first, then configured).
    public func all() -> [APIKey] {
        refresh()
        return state.withLock { Array($0.byPublicKey.values) }.sorted { $0.publicKey < $1.publicKey }
    }

    private func lookup(_ publicKey: String) -> APIKey? {
        refresh()
        return state.withLock { $0.byPublicKey[publicKey] }
    }

    /// Reads the file again when its size or modification time changed.
    private func refresh() {
        var info = stat()
        let exists = stat(path, &info) == 0
        let modified = exists ? Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec) : 0
        let size = exists ? Int64(info.st_size) : 0
        let current = state.withLock { ($0.modified, $0.size) }
        guard current != (modified, size) else { return }
        var keys: [String: APIKey] = [:]
        for key in fixed { keys[key.publicKey] = key }
        if exists {
            for key in Self.parse(Self.read(path)) where keys[key.publicKey] == nil { keys[key.publicKey] = key }
        }
        state.withLock { $0 = (modified, size, keys) }
    }

    static func parse(_ text: String) -> [APIKey] {
        text.split(separator: "\n").compactMap { line in
            guard let value = try? JSONValue.parse(String(line)), let project = value["project"]?.stringValue,
                  let publicKey = value["publicKey"]?.stringValue, let hash = value["secretSHA256"]?.stringValue
            else { return nil }
            return APIKey(project: project, publicKey: publicKey, secretSHA256: hash)
        }
    }

    static func read(_ path: String) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0, bytes.count < 16 << 20 else { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Makes a key pair for `project` and appends it (hashed) to the key file, synced: the secret
    /// exists only in what this returns.
    public static func create(project: String, in path: String) throws -> (publicKey: String, secretKey: String) {
        guard !project.isEmpty, project.utf8.count <= 255 else { throw KeyFileError(message: "a project name is 1 to 255 bytes") }
        let publicKey = "pk-lf-" + randomUUID()
        let secretKey = "sk-lf-" + randomUUID()
        let key = APIKey(project: project, publicKey: publicKey, secretSHA256: SHA256.hex(Array(secretKey.utf8)))
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw KeyFileError(message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array((key.line + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw KeyFileError(message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return (publicKey, secretKey)
    }

    static func randomUUID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}

/// Compares secrets in time that does not depend on where they differ.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for index in x.indices { difference |= x[index] ^ y[index] }
    return difference == 0
}

public struct KeyFileError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Standard Base64 (RFC 4648), decoding only, padding optional.
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in text.utf8 {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="): continue
            default: return nil
            }
            buffer = buffer << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return output
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
