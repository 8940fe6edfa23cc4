public import Logging
import Synchronization
import WickJSON
public import WickStore

#if canImport(Glibc)
import Glibc
#endif

/// The `file` kind: appends the events to an NDJSON file, one stored event per line exactly as
/// `wick export` writes it, in log order. Exactly once across crashes:
///
/// 1. A batch is written at the file's recorded length (so a batch tried again overwrites its own
///    earlier attempt) and the file is fsynced (its directory too, when the file is new).
/// 2. The sink's state — the cursor after the batch and the file's length with it — is written to
///    `<data-dir>/sinks/<name>.state` by a synced rename.
/// 3. Only then is the batch delivered, and the replayer moves the store's cursor.
///
/// At start-up the state wins: the file is cut back to the length it records (bytes past it are a
/// batch whose state was never written, and it is written again from the state's cursor), and
/// replay resumes from the state's cursor. A file shorter than the state says (moved, truncated or
/// replaced by someone else) is logged and appended to as it is; the events it lost are not
/// written again.
///
/// With `rotateBytes`, a file that would grow past it is renamed to `<path>.000001` (then
/// `.000002`, …; the oldest has the lowest number, and Wick never deletes them) before the next
/// batch starts a new one; a batch larger than the limit still goes whole into one file. The
/// rename is recorded in the state, and one cut short by a crash is finished at start-up.
public final class FileSink: ReplayTransport {
    public struct Configuration: Sendable, Equatable {
        /// The NDJSON file; its directory must exist and be writable.
        public var path: String
        /// Start a new file before one would grow past this many bytes; 0: one file, never rotated.
        public var rotateBytes: Int64 = 0

        public init(path: String, rotateBytes: Int64 = 0) {
            self.path = path
            self.rotateBytes = rotateBytes
        }
    }

    /// Where the file stands, as last synced.
    struct State: Equatable {
        /// The file it describes (a sink pointed at another path starts a new one).
        var path: String
        /// The log position after the last event in the file.
        var cursor: UInt64
        /// The file's length with every event before `cursor` in it.
        var bytes: Int64
        /// Files rotated so far: the next is `<path>.<rotations + 1>`.
        var rotations: Int
    }

    public let configuration: Configuration
    let statePath: String
    private let logger: Logger
    private let state = Mutex<State?>(nil)

    public init(_ configuration: Configuration, statePath: String, logger: Logger) {
        self.configuration = configuration
        self.statePath = statePath
        self.logger = logger
    }

    /// Where a sink's state lives in a data directory.
    public static func statePath(directory: DataDirectory, sink: String) -> String {
        directory.root + "/sinks/" + sink + ".state"
    }

    /// The name of the `number`th rotated file of `path`.
    public static func rotatedPath(_ path: String, _ number: Int) -> String {
        let digits = String(number)
        return path + "." + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    public var maxConcurrency: Int { 1 }

    public func prepare(storedCursor: UInt64?) throws -> UInt64 {
        let path = configuration.path
        var current: State
        if let saved = try Self.readState(statePath), saved.path == path {
            current = saved
            let next = Self.rotatedPath(path, saved.rotations + 1)
            if !Self.exists(path) && Self.exists(next) {
                // Killed between renaming the full file and recording it: finish the rotation.
                try FileIO.truncate(next, to: saved.bytes)
                current.rotations += 1
                current.bytes = 0
                logger.notice("replay.file-rotation-finished", metadata: ["file": "\(next)"])
            }
            let size = FileIO.size(path) ?? 0
            if size > current.bytes {
                try FileIO.truncate(path, to: current.bytes)
                logger.notice("replay.file-truncated", metadata: [
                    "file": "\(path)", "bytes": "\(size - current.bytes)",
                    "why": "written after the last synced cursor; written again from it",
                ])
            } else if size < current.bytes {
                logger.warning("replay.file-shorter", metadata: [
                    "file": "\(path)", "bytes": "\(size)", "expected": "\(current.bytes)",
                    "why": "moved, truncated or replaced by someone else; appending to it as it is",
                ])
                current.bytes = size
            }
        } else {
            // A new file (or the sink now points at another path): append after whatever is there,
            // from where the sink got to.
            let saved = try Self.readState(statePath)
            var rotations = 0
            while Self.exists(Self.rotatedPath(path, rotations + 1)) { rotations += 1 }
            current = State(path: path, cursor: saved?.cursor ?? storedCursor ?? 0, bytes: FileIO.size(path) ?? 0, rotations: rotations)
            logger.info("replay.file-opened", metadata: ["file": "\(path)", "bytes": "\(current.bytes)", "cursor": "\(current.cursor)"])
        }
        try Self.writeState(current, to: statePath)
        state.withLock { $0 = current }
        return current.cursor
    }

    public func send(_ batch: ReplayBatch) -> ReplayOutcome {
        state.withLock { state -> ReplayOutcome in
            guard var current = state else { return .retry("not prepared") }
            let lines = batch.ndjson
            do {
                if configuration.rotateBytes > 0 && current.bytes > 0 && current.bytes + Int64(lines.count) > configuration.rotateBytes {
                    let rotated = Self.rotatedPath(current.path, current.rotations + 1)
                    try FileIO.rename(current.path, to: rotated)
                    current.rotations += 1
                    current.bytes = 0
                    try Self.writeState(current, to: statePath)
                    state = current
                    logger.info("replay.file-rotated", metadata: ["file": "\(rotated)"])
                }
                let size = try FileIO.write(lines, to: current.path, at: current.bytes)
                if size < current.bytes {
                    logger.warning("replay.file-shorter", metadata: [
                        "file": "\(current.path)", "bytes": "\(size)", "expected": "\(current.bytes)",
                        "why": "moved, truncated or replaced by someone else; appending to it as it is",
                    ])
                }
                current.bytes = min(size, current.bytes) + Int64(lines.count)
                current.cursor = batch.range.upperBound
                try Self.writeState(current, to: statePath)
            } catch {
                // Nothing is delivered: the batch is written again at the same place.
                return .retry("\(error)")
            }
            state = current
            return .delivered(wireBytes: lines.count)
        }
    }

    // MARK: - State

    static func readState(_ path: String) throws(FileIO.Failure) -> State? {
        guard let bytes = try FileIO.read(path) else { return nil }
        guard let value = try? JSONValue.parse(bytes), let file = value["path"]?.stringValue,
              let cursor = value["cursor"]?.numberValue?.int64Value, cursor >= 0,
              let length = value["bytes"]?.numberValue?.int64Value, length >= 0,
              let rotations = value["rotations"]?.numberValue?.int64Value, rotations >= 0
        else {
            throw FileIO.Failure(description: "\(path) is not a file sink's state; remove it to start the file afresh")
        }
        return State(path: file, cursor: UInt64(cursor), bytes: length, rotations: Int(rotations))
    }

    static func writeState(_ state: State, to path: String) throws(FileIO.Failure) {
        let value: JSONValue = .object([
            "path": .string(state.path),
            "cursor": .number(JSONNumber(Int64(state.cursor))),
            "bytes": .number(JSONNumber(state.bytes)),
            "rotations": .number(JSONNumber(Int64(state.rotations))),
        ])
        try FileIO.replace(path, with: value.serialized() + [0x0A])
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }
}

/// The few file operations the file sink needs, each durable before it returns.
enum FileIO {
    struct Failure: Error, Sendable, CustomStringConvertible {
        var description: String

        static func errno(_ what: String, _ path: String) -> Failure {
            Failure(description: "\(what) \(path): \(String(cString: strerror(Glibc.errno)))")
        }
    }

    static func size(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// Writes `bytes` at `offset` of `path` (created if missing), cuts the file there, and syncs it
    /// (and its directory, when it was created). An offset past the end writes at the end. Returns
    /// the file's length before the write.
    static func write(_ bytes: [UInt8], to path: String, at offset: Int64) throws(Failure) -> Int64 {
        let created = size(path) == nil
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw .errno("cannot open", path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .errno("cannot stat", path) }
        let before = Int64(info.st_size)
        var position = min(offset, before)
        let end = position + Int64(bytes.count)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(position)) }
            if count < 0 && Glibc.errno == EINTR { continue }
            guard count > 0 else { throw .errno("cannot write", path) }
            written += count
            position += Int64(count)
        }
        if before > end {
            guard ftruncate(fd, off_t(end)) == 0 else { throw .errno("cannot truncate", path) }
        }
        guard fsync(fd) == 0 else { throw .errno("cannot sync", path) }
        if created { try syncDirectory(of: path) }
        return before
    }

    static func truncate(_ path: String, to length: Int64) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .errno("cannot open", path) }
        defer { close(fd) }
        guard ftruncate(fd, off_t(length)) == 0 else { throw .errno("cannot truncate", path) }
        guard fsync(fd) == 0 else { throw .errno("cannot sync", path) }
    }

    static func rename(_ from: String, to: String) throws(Failure) {
        guard Glibc.rename(from, to) == 0 else { throw .errno("cannot rename", from) }
        try syncDirectory(of: to)
    }

    /// Replaces `path` with `bytes` atomically and durably: a synced temporary file renamed over
    /// it, then the directory synced. Creates the directory if missing.
    static func replace(_ path: String, with bytes: [UInt8]) throws(Failure) {
        let directory = directoryName(path)
        if size(directory) == nil && mkdir(directory, 0o750) != 0 && Glibc.errno != EEXIST {
            throw .errno("cannot create", directory)
        }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw .errno("cannot open", temporary) }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0 && Glibc.errno == EINTR { continue }
            guard count > 0 else {
                close(fd)
                throw .errno("cannot write", temporary)
            }
            written += count
        }
        guard fsync(fd) == 0 else {
            close(fd)
            throw .errno("cannot sync", temporary)
        }
        close(fd)
        try rename(temporary, to: path)
    }

    /// The whole file, or nil when it does not exist.
    static func read(_ path: String) throws(Failure) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if Glibc.errno == ENOENT { return nil }
            throw .errno("cannot open", path)
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count < 0 && Glibc.errno == EINTR { continue }
            guard count >= 0 else { throw .errno("cannot read", path) }
            if count == 0 { return out }
            out.append(contentsOf: buffer[0..<count])
        }
    }

    static func syncDirectory(of path: String) throws(Failure) {
        let directory = directoryName(path)
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .errno("cannot open", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .errno("cannot sync", directory) }
    }

    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
