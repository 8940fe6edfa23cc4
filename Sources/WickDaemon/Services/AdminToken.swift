import Logging
public import WickStore

#if canImport(Glibc)
import Glibc
#endif

/// `<data-dir>/admin-token`: a fresh random token at every start, readable by the daemon's user
/// only; `wick import` presents it to `POST /wick/import`.
public enum AdminToken: Sendable {
    /// Makes and writes a new token; nil when it cannot be written (the endpoint is then refused).
    static func create(at path: String, logger: Logger) -> String? {
        var generator = SystemRandomNumberGenerator()
        let token = (0..<4).map { _ in String(generator.next() as UInt64, radix: 16).leftPadded(16) }.joined()
        let temporary = path + ".tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            logger.warning("admin-token.unwritable", metadata: ["path": "\(path)"])
            return nil
        }
        let bytes = Array(token.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            logger.warning("admin-token.unwritable", metadata: ["path": "\(path)"])
            return nil
        }
        return token
    }

    /// The token of the daemon running on `directory`, when this user may read it.
    public static func read(_ directory: DataDirectory) -> String? {
        let fd = open(directory.adminTokenPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = Glibc.read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].filter { $0 > 0x20 }, as: UTF8.self)
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
