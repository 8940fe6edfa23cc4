#if canImport(Glibc)
import Glibc
#endif

/// The errno of a failed system call, kept as the cause of a `StorageError`.
public struct Errno: Error, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let noSpace = Errno(rawValue: ENOSPC)
    public static let quotaExceeded = Errno(rawValue: EDQUOT)
    public static let io = Errno(rawValue: EIO)
    public static let interrupted = Errno(rawValue: EINTR)
    public static let noSuchFile = Errno(rawValue: ENOENT)
    public static let wouldBlock = Errno(rawValue: EWOULDBLOCK)

    public var description: String {
        guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
        return String(cString: text)
    }
}

extension StorageError {
    /// Maps a failed system call to the storage error a caller acts on: ENOSPC and EDQUOT are
    /// back-pressure (`diskFull`), the rest are I/O errors.
    static func syscall(
        _ name: String,
        path: String,
        errno: Errno,
        file: String = #fileID,
        line: Int = #line
    ) -> StorageError {
        let code: Code = (errno == .noSpace || errno == .quotaExceeded) ? .diskFull : .ioError
        return StorageError(code: code, message: "\(name) \(path)", cause: errno, file: file, line: line)
    }
}
