import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The sockets a test makes in systemd's place, and the client side that talks to them.
enum TestSocket {
    static let streamType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    static let datagramType = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)

    /// A listening Unix stream socket, as `ListenStream=/path` makes it.
    static func unixStreamListener(_ path: String) throws -> Int32 {
        let fd = try unixBound(path, type: streamType)
        guard listen(fd, 64) == 0 else {
            close(fd)
            throw SetupError.system("listen \(path)")
        }
        return fd
    }

    /// A bound Unix datagram socket (`ListenDatagram=/path`, or a NOTIFY_SOCKET; "@name" is abstract).
    static func unixDatagram(_ path: String) throws -> Int32 {
        try unixBound(path, type: datagramType)
    }

    /// A UDP socket bound to 127.0.0.1 on a port the kernel picks, and that port.
    static func udpLoopback() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, datagramType, 0)
        guard fd >= 0 else { throw SetupError.system("socket(AF_INET)") }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0 else {
            close(fd)
            throw SetupError.system("bind/getsockname 127.0.0.1:0")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Connects to a Unix stream socket and writes `bytes`, then closes the connection.
    static func sendStream(_ bytes: [UInt8], to path: String) throws {
        let fd = socket(AF_UNIX, streamType, 0)
        guard fd >= 0 else { throw SetupError.system("socket(AF_UNIX)") }
        defer { close(fd) }
        let connected = try withUnixAddress(path) { connect(fd, $0, $1) }
        guard connected == 0 else { throw SetupError.system("connect \(path)") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw SetupError.system("write \(path)") }
            offset += written
        }
    }

    /// Sends one datagram to a Unix datagram socket, from a socket bound to `source` (a sender that
    /// has a name) or from an unbound one, whose datagrams arrive with no sender address at all.
    static func sendDatagram(_ bytes: [UInt8], toUnix path: String, from source: String?) throws {
        let fd: Int32
        if let source {
            unlink(source)
            fd = try unixDatagram(source)
        } else {
            fd = socket(AF_UNIX, datagramType, 0)
            guard fd >= 0 else { throw SetupError.system("socket(AF_UNIX, SOCK_DGRAM)") }
        }
        defer { close(fd) }
        let sent = try withUnixAddress(path) { address, length in
            bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, address, length) }
        }
        guard sent == bytes.count else { throw SetupError.system("sendto \(path)") }
    }

    /// Sends one datagram to 127.0.0.1:`port`.
    static func sendDatagram(_ bytes: [UInt8], toUDPPort port: Int) throws {
        let fd = socket(AF_INET, datagramType, 0)
        guard fd >= 0 else { throw SetupError.system("socket(AF_INET)") }
        defer { close(fd) }
        var address = loopback(port: port)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, target, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard sent == bytes.count else { throw SetupError.system("sendto 127.0.0.1:\(port)") }
    }

    /// SO_RCVBUF as the kernel reports it (twice what was asked for).
    static func receiveBuffer(_ fd: Int32) -> Int {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, &length) == 0 ? Int(value) : -1
    }

    static func setReceiveBuffer(_ fd: Int32, _ bytes: Int) throws {
        var value = Int32(bytes)
        guard setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SetupError.system("setsockopt(SO_RCVBUF)")
        }
    }

    static func isSocketFile(_ path: String) -> Bool {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return attributes?[.type] as? FileAttributeType == .typeSocket
    }

    private static func unixBound(_ path: String, type: Int32) throws -> Int32 {
        let fd = socket(AF_UNIX, type, 0)
        guard fd >= 0 else { throw SetupError.system("socket(AF_UNIX)") }
        let bound = try withUnixAddress(path) { bind(fd, $0, $1) }
        guard bound == 0 else {
            close(fd)
            throw SetupError.system("bind \(path)")
        }
        return fd
    }

    /// A sockaddr_un for a path, or for an abstract name when it starts with "@" (as NOTIFY_SOCKET
    /// writes those).
    static func withUnixAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) throws -> T {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw SetupError("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        return try withUnsafePointer(to: &address) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
        return address
    }
}

/// systemd's end of NOTIFY_SOCKET: a datagram socket read by a thread of its own, so that every
/// message is stamped when it arrives (the watchdog cadence is judged by those stamps) together with
/// the pid the kernel says sent it (NotifyAccess=main accepts only the main process's messages).
final class NotifyReceiver {
    struct Message: Sendable {
        var time: ContinuousClock.Instant
        var senderPID: pid_t?
        var fields: [String]

        func has(_ field: String) -> Bool { fields.contains(field) }
    }

    /// What goes into NOTIFY_SOCKET: a path, or "@name" for the abstract namespace.
    let address: String
    private let reader: Reader

    init(address: String) throws {
        let fd = try TestSocket.unixDatagram(address)
        var on: Int32 = 1
        guard setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            close(fd)
            throw SetupError.system("setsockopt(SO_PASSCRED)")
        }
        self.address = address
        reader = Reader(fd: fd)
        let reader = self.reader
        Thread { reader.run() }.start()
    }

    deinit {
        reader.stop()
    }

    var all: [Message] { reader.messages.withLock { $0 } }

    /// The first message (from `index` on) that holds `field`, waiting up to `timeout` for it.
    func first(_ field: String, from index: Int = 0, timeout: Duration) -> (index: Int, message: Message)? {
        var found: (Int, Message)? = nil
        _ = waitUntil(timeout, every: .milliseconds(10)) {
            found = reader.messages.withLock { messages in
                guard index < messages.count else { return nil }
                return messages[index...].firstIndex { $0.has(field) }.map { ($0, messages[$0]) }
            }
            return found != nil
        }
        return found
    }

    private final class Reader: Sendable {
        let fd: Int32
        let messages = Mutex<[Message]>([])
        private let stopping = Atomic<Bool>(false)
        private let stopped = Atomic<Bool>(false)

        init(fd: Int32) {
            self.fd = fd
        }

        func stop() {
            stopping.store(true, ordering: .relaxed)
            // The loop wakes at least every 50 ms; close only once it has let go of the descriptor.
            if waitUntil(.seconds(2), every: .milliseconds(5), { stopped.load(ordering: .relaxed) }) {
                close(fd)
            }
        }

        func run() {
            defer { stopped.store(true, ordering: .relaxed) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            // Room for one SCM_CREDENTIALS control message.
            var control = [UInt8](repeating: 0, count: MemoryLayout<cmsghdr>.size + MemoryLayout<Credentials>.size + 16)
            while !stopping.load(ordering: .relaxed) {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 50) > 0 else { continue }
                let (count, pid) = buffer.withUnsafeMutableBytes { data in
                    control.withUnsafeMutableBytes { control in
                        var vector = iovec(iov_base: data.baseAddress, iov_len: data.count)
                        return withUnsafeMutablePointer(to: &vector) { vector in
                            var header = msghdr()
                            header.msg_iov = vector
                            header.msg_iovlen = 1
                            header.msg_control = control.baseAddress
                            header.msg_controllen = control.count
                            let count = recvmsg(fd, &header, 0)
                            return (count, count >= 0 ? Self.senderPID(control, length: Int(header.msg_controllen)) : nil)
                        }
                    }
                }
                guard count >= 0 else { continue }
                let text = String(decoding: buffer[0..<count], as: UTF8.self)
                let message = Message(time: .now, senderPID: pid, fields: text.split(separator: "\n").map(String.init))
                messages.withLock { $0.append(message) }
            }
        }

        /// struct ucred and SCM_CREDENTIALS, which Glibc's overlay leaves out (they need _GNU_SOURCE).
        private struct Credentials {
            var pid: Int32
            var uid: UInt32
            var gid: UInt32
        }
        private static let credentialsType: Int32 = 2

        /// The pid in an SCM_CREDENTIALS control message.
        private static func senderPID(_ control: UnsafeMutableRawBufferPointer, length: Int) -> pid_t? {
            let headerSize = MemoryLayout<cmsghdr>.size
            guard length >= headerSize + MemoryLayout<Credentials>.size else { return nil }
            let header = control.loadUnaligned(as: cmsghdr.self)
            guard header.cmsg_level == SOL_SOCKET, header.cmsg_type == credentialsType else { return nil }
            // CMSG_DATA: the header rounded up to the alignment of size_t.
            let dataOffset = (headerSize + MemoryLayout<Int>.size - 1) / MemoryLayout<Int>.size * MemoryLayout<Int>.size
            return control.loadUnaligned(fromByteOffset: dataOffset, as: Credentials.self).pid
        }
    }
}
