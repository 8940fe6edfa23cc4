import CWickLinux

#if canImport(Glibc)
import Glibc
#endif

/// Creating, binding and describing datagram sockets (the NIO-free side of the listeners).
enum DatagramSockets {
    /// A UDP socket bound to `host:port` (port 0 picks one).
    static func udp(host: String, port: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = CWickLinux_SOCK_DGRAM()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw IngestError(message: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, CWickLinux_SOCK_DGRAM() | CWickLinux_SOCK_CLOEXEC() | CWickLinux_SOCK_NONBLOCK(), 0)
        guard fd >= 0 else { throw IngestError(message: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw IngestError(message: "bind UDP \(host):\(port): \(message)")
        }
        return fd
    }

    /// A Unix datagram socket at `path` (a stale socket file there is replaced).
    static func unix(path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, CWickLinux_SOCK_DGRAM() | CWickLinux_SOCK_CLOEXEC() | CWickLinux_SOCK_NONBLOCK(), 0)
        guard fd >= 0 else { throw IngestError(message: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw IngestError(message: "socket path longer than 107 bytes: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        var info = stat()
        if lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw IngestError(message: "bind \(path): \(message)")
        }
        return fd
    }

    /// Makes an inherited socket non-blocking (systemd hands them over blocking).
    static func adopt(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    /// Asks for a receive buffer: SO_RCVBUFFORCE (allowed to root, and to systemd for us) may go past
    /// net.core.rmem_max; SO_RCVBUF otherwise. Returns what the kernel granted.
    static func setReceiveBuffer(_ fd: Int32, bytes: Int?) -> Int {
        if var requested = bytes.map(Int32.init(clamping:)) {
            if setsockopt(fd, SOL_SOCKET, CWickLinux_SO_RCVBUFFORCE(), &requested, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &requested, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        var granted: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &length)
        return Int(granted)
    }

    /// `host:port` or the path a socket is bound to.
    static func localAddress(_ fd: Int32) -> String {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard ok == 0 else { return "?" }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                    var raw = address.pointee.sin_addr
                    inet_ntop(AF_INET, &raw, &text, socklen_t(text.count))
                    return "\(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)):\(UInt16(bigEndian: address.pointee.sin_port))"
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                    var raw = address.pointee.sin6_addr
                    inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
                    return "[\(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))]:\(UInt16(bigEndian: address.pointee.sin6_port))"
                }
            }
        case AF_UNIX:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { address in
                    withUnsafeBytes(of: address.pointee.sun_path) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                }
            }
        default:
            return "?"
        }
    }
}
