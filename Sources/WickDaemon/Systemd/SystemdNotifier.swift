import CWickLinux

#if canImport(Glibc)
import Glibc
#endif

/// sd_notify(3) without libsystemd: one datagram to `$NOTIFY_SOCKET` (a path, or `@name` in the
/// abstract namespace). Does nothing when systemd did not ask for notifications.
public struct SystemdNotifier: Sendable {
    private let socketPath: [UInt8]?

    public init(environment: [String: String]) {
        if let path = environment["NOTIFY_SOCKET"], !path.isEmpty {
            socketPath = Array(path.utf8)
        } else {
            socketPath = nil
        }
    }

    public var isEnabled: Bool { socketPath != nil }

    /// Sends `state` (e.g. "READY=1\nSTATUS=listening"); false when it could not be sent.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard var path = socketPath else { return false }
        let fd = socket(AF_UNIX, CWickLinux_SOCK_DGRAM() | CWickLinux_SOCK_CLOEXEC(), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (path.first == 0 ? 0 : 1))
        let sent = state.utf8CString.withUnsafeBufferPointer { message in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, message.baseAddress, message.count - 1, Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        return sent >= 0
    }

    /// The watchdog interval systemd expects pings within (`$WATCHDOG_USEC`), when enabled for us.
    public static func watchdogInterval(environment: [String: String]) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], Int32(pid) != getpid() { return nil }
        return .microseconds(microseconds)
    }
}
