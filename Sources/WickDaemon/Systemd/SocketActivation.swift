import CWickLinux
public import WickIngest

#if canImport(Glibc)
import Glibc
#endif

/// Sockets systemd passed us (`LISTEN_FDS`, from fd 3 on), each classified as a Unix stream, UDP or
/// Unix datagram socket by asking the socket: `FileDescriptorName=` names every socket of a unit
/// alike, so names cannot tell one unit's sockets apart.
public enum SocketActivation: Sendable {
    public struct Socket: Sendable, Hashable {
        public var descriptor: Int32
        public var kind: ListenerConfiguration.Kind
        public var name: String

        /// The SO_RCVBUF to ask for: none when the socket already has `configured` bytes. systemd's
        /// `ReceiveBuffer=` sets it with SO_RCVBUFFORCE, past net.core.rmem_max, and the unprivileged
        /// SO_RCVBUF the daemon falls back to would cut it down to rmem_max.
        public func receiveBufferRequest(configured: Int) -> Int? {
            guard kind != .unixStream else { return nil }
            var current: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &current, &length) == 0 else { return configured }
            // Linux reports twice what was set (its bookkeeping overhead included).
            return Int(current) / 2 >= configured ? nil : configured
        }
    }

    /// The sockets passed to this process, or none when `LISTEN_PID` names another process.
    public static func sockets(environment: [String: String]) -> [Socket] {
        guard let countText = environment["LISTEN_FDS"], let count = Int32(countText), count > 0,
              let pidText = environment["LISTEN_PID"], Int32(pidText) == getpid()
        else { return [] }
        let names = environment["LISTEN_FDNAMES"].map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) } ?? []
        var sockets: [Socket] = []
        for index in 0..<count {
            let descriptor = 3 + index
            // Ours now: not inherited by anything we start.
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            guard let kind = kind(of: descriptor) else { continue }
            let name = Int(index) < names.count ? names[Int(index)] : ""
            sockets.append(Socket(descriptor: descriptor, kind: kind, name: name))
        }
        return sockets
    }

    /// Whether a descriptor is a Unix stream, UDP or Unix datagram socket.
    static func kind(of descriptor: Int32) -> ListenerConfiguration.Kind? {
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_TYPE, &type, &length) == 0 else { return nil }
        var storage = sockaddr_storage()
        var addressLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &addressLength) }
        }
        guard named == 0 else { return nil }
        let family = Int32(storage.ss_family)
        switch (family, type) {
        case (AF_UNIX, CWickLinux_SOCK_STREAM()): return .unixStream
        case (AF_UNIX, CWickLinux_SOCK_DGRAM()): return .unixDatagram
        case (AF_INET, CWickLinux_SOCK_DGRAM()), (AF_INET6, CWickLinux_SOCK_DGRAM()): return .udp
        default: return nil
        }
    }

    /// Removes the variables, so that nothing we start thinks the sockets are its own.
    public static func clearEnvironment() {
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_PID")
        unsetenv("LISTEN_FDNAMES")
    }
}
