/// The one error of the storage boundary.
///
/// Modelled on NIOFS's `FileSystemError`: a code that callers switch on, a message for people, the
/// underlying cause, and where it was raised. `description` never includes record bytes.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?
    public var location: SourceLocation

    public init(
        code: Code,
        message: String,
        cause: (any Error & Sendable)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = SourceLocation(file: file, line: line)
    }

    public var description: String {
        if let cause {
            return "\(code): \(message) (\(cause))"
        }
        return "\(code): \(message)"
    }

    public struct SourceLocation: Sendable, Hashable {
        public var file: String
        public var line: Int
    }

    /// Extensible without breaking callers: a struct over a private enum.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case corruptSegment, checksumMismatch, diskFull, ioError, indexUnavailable, closed
            case locked, invalidArgument, notFound, unsupportedVersion
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Bytes on disk do not parse as the format says they must.
        public static let corruptSegment = Code(.corruptSegment)
        /// A frame's CRC-32C does not match its bytes.
        public static let checksumMismatch = Code(.checksumMismatch)
        /// ENOSPC, EDQUOT, or the configured free-space reserve reached: back-pressure, not corruption.
        public static let diskFull = Code(.diskFull)
        /// Any other failed system call.
        public static let ioError = Code(.ioError)
        /// LMDB could not be opened or used.
        public static let indexUnavailable = Code(.indexUnavailable)
        /// The store is shut down.
        public static let closed = Code(.closed)
        /// Another process holds the data directory.
        public static let locked = Code(.locked)
        public static let invalidArgument = Code(.invalidArgument)
        public static let notFound = Code(.notFound)
        /// A file written by a newer format version.
        public static let unsupportedVersion = Code(.unsupportedVersion)

        public var description: String {
            switch base {
            case .corruptSegment: "corrupt segment"
            case .checksumMismatch: "checksum mismatch"
            case .diskFull: "disk full"
            case .ioError: "I/O error"
            case .indexUnavailable: "index unavailable"
            case .closed: "closed"
            case .locked: "locked"
            case .invalidArgument: "invalid argument"
            case .notFound: "not found"
            case .unsupportedVersion: "unsupported version"
            }
        }
    }
}
