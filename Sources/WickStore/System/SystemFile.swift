#if canImport(Glibc)
import CWickLinux
import Glibc
#endif

/// A file descriptor with the few calls the store makes, each retried on EINTR and mapped to
/// `StorageError` in one place. In debug builds every call first asks the `FaultInjector`, so tests
/// can force ENOSPC or EIO on the Nth write or fsync (the swift-system / NIOFS mocking pattern).
struct SystemFile: Sendable {
    let descriptor: Int32
    let path: String
    #if ENABLE_MOCKING
    let faults: FaultInjector?
    #endif

    #if ENABLE_MOCKING
    init(descriptor: Int32, path: String, faults: FaultInjector?) {
        self.descriptor = descriptor
        self.path = path
        self.faults = faults
    }
    #else
    init(descriptor: Int32, path: String, faults: FaultInjector?) {
        self.descriptor = descriptor
        self.path = path
    }
    #endif

    enum Mode: Sendable {
        case readOnly
        case readWrite
        /// Create a new file; fails if it exists.
        case createExclusive
    }

    static func open(_ path: String, _ mode: Mode, faults: FaultInjector? = nil) throws(StorageError) -> SystemFile {
        var flags: Int32 = O_CLOEXEC
        switch mode {
        case .readOnly: flags |= O_RDONLY
        case .readWrite: flags |= O_RDWR
        case .createExclusive: flags |= O_RDWR | O_CREAT | O_EXCL
        }
        while true {
            let fd = Glibc.open(path, flags, 0o640)
            if fd >= 0 { return SystemFile(descriptor: fd, path: path, faults: faults) }
            let error = Errno(rawValue: errno)
            if error == .interrupted { continue }
            if error == .noSuchFile {
                throw StorageError(code: .notFound, message: "open \(path)", cause: error)
            }
            throw .syscall("open", path: path, errno: error)
        }
    }

    func close() {
        _ = Glibc.close(descriptor)
    }

    /// Writes all of `bytes` at `offset`. A short write that cannot continue leaves the file longer
    /// than before; the caller truncates back to `offset` (the segment writer does).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(StorageError) {
        #if ENABLE_MOCKING
        if let faults, let injected = faults.check(.write, path: path) {
            throw .syscall("pwrite", path: path, errno: injected)
        }
        #endif
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        var position = offset
        while remaining > 0 {
            let written = pwrite(descriptor, base, remaining, off_t(position))
            if written < 0 {
                let error = Errno(rawValue: errno)
                if error == .interrupted { continue }
                throw .syscall("pwrite", path: path, errno: error)
            }
            if written == 0 {
                throw .syscall("pwrite", path: path, errno: .noSpace)
            }
            remaining -= written
            position += Int64(written)
            base += written
        }
    }

    /// Reads up to `count` bytes at `offset` into `buffer`; returns how many were read (fewer only at EOF).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(StorageError) -> Int {
        guard var base = buffer.baseAddress else { return 0 }
        var total = 0
        var position = offset
        while total < buffer.count {
            let got = pread(descriptor, base, buffer.count - total, off_t(position))
            if got < 0 {
                let error = Errno(rawValue: errno)
                if error == .interrupted { continue }
                throw .syscall("pread", path: path, errno: error)
            }
            if got == 0 { break }
            total += got
            position += Int64(got)
            base += got
        }
        return total
    }

    func read(count: Int, at offset: Int64) throws(StorageError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try bytes.withMutableBytes { (buffer) throws(StorageError) -> Int in
            try read(into: buffer, at: offset)
        }
        if got < count { bytes.removeLast(count - got) }
        return bytes
    }

    /// Starts writing back `length` bytes at `offset` without waiting (best effort: the fsync that
    /// follows is what counts). A large file then reaches the disk as it is written, not in one burst
    /// that other files' syncs would queue behind.
    func startWriteback(at offset: Int64, length: Int64) {
        _ = CWickLinux_start_writeback(descriptor, offset, length)
    }

    /// Waits until `length` bytes at `offset` are written back (best effort, as startWriteback).
    func finishWriteback(at offset: Int64, length: Int64) {
        _ = CWickLinux_finish_writeback(descriptor, offset, length)
    }

    func sync() throws(StorageError) {
        #if ENABLE_MOCKING
        if let faults, let injected = faults.check(.fsync, path: path) {
            throw .syscall("fsync", path: path, errno: injected)
        }
        #endif
        while fdatasync(descriptor) != 0 {
            let error = Errno(rawValue: errno)
            if error == .interrupted { continue }
            throw .syscall("fdatasync", path: path, errno: error)
        }
    }

    func truncate(to length: Int64) throws(StorageError) {
        while ftruncate(descriptor, off_t(length)) != 0 {
            let error = Errno(rawValue: errno)
            if error == .interrupted { continue }
            throw .syscall("ftruncate", path: path, errno: error)
        }
    }

    func size() throws(StorageError) -> Int64 {
        var info = stat()
        if fstat(descriptor, &info) != 0 {
            throw .syscall("fstat", path: path, errno: Errno(rawValue: errno))
        }
        return Int64(info.st_size)
    }
}
