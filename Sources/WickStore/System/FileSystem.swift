#if canImport(Glibc)
import Glibc
#endif

/// Directory-level calls: listing, creating, renaming, removing, syncing, free space, locking.
enum FileSystem {
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func createDirectories(_ path: String) throws(StorageError) {
        if isDirectory(path) { return }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if !isDirectory(prefix), mkdir(prefix, 0o750) != 0, errno != EEXIST {
                throw .syscall("mkdir", path: prefix, errno: Errno(rawValue: errno))
            }
            prefix += "/"
        }
    }

    /// Names (not paths) of the entries of a directory, unsorted.
    static func list(_ path: String) throws(StorageError) -> [String] {
        guard let directory = opendir(path) else {
            let error = Errno(rawValue: errno)
            if error == .noSuchFile { return [] }
            throw .syscall("opendir", path: path, errno: error)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    static func remove(_ path: String) throws(StorageError) {
        if unlink(path) != 0 {
            let error = Errno(rawValue: errno)
            if error == .noSuchFile { return }
            throw .syscall("unlink", path: path, errno: error)
        }
    }

    static func rename(_ from: String, to: String) throws(StorageError) {
        if Glibc.rename(from, to) != 0 {
            throw .syscall("rename", path: from, errno: Errno(rawValue: errno))
        }
    }

    /// Makes a directory's entries (new, renamed, removed files) durable.
    static func syncDirectory(_ path: String, faults: FaultInjector? = nil) throws(StorageError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .syscall("open", path: path, errno: Errno(rawValue: errno)) }
        defer { Glibc.close(fd) }
        #if ENABLE_MOCKING
        if let faults, let injected = faults.check(.fsync, path: path) {
            throw .syscall("fsync", path: path, errno: injected)
        }
        #endif
        if fsync(fd) != 0 {
            throw .syscall("fsync", path: path, errno: Errno(rawValue: errno))
        }
    }

    /// Bytes available to an unprivileged writer on the file system holding `path`.
    static func availableBytes(_ path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}

/// An exclusive advisory lock on a file, held for the life of the process that took it. The daemon
/// holds one on its data directory; mutating commands try to take it and refuse when they cannot.
final class DirectoryLock: Sendable {
    private let descriptor: Int32
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Takes the lock without waiting; nil when another process holds it.
    static func acquire(_ path: String) throws(StorageError) -> DirectoryLock? {
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw .syscall("open", path: path, errno: Errno(rawValue: errno)) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let error = Errno(rawValue: errno)
            Glibc.close(fd)
            if error == .wouldBlock { return nil }
            throw .syscall("flock", path: path, errno: error)
        }
        return DirectoryLock(descriptor: fd, path: path)
    }

    /// True when some process holds the lock right now (checked by trying to take a shared lock).
    static func isHeld(_ path: String) -> Bool {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        return flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK
    }

    func release() {
        flock(descriptor, LOCK_UN)
        Glibc.close(descriptor)
    }
}
