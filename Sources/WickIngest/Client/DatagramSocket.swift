import CWickLinux

#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket aimed at one destination, sending with sendmmsg(2).
struct DatagramSocket {
    let descriptor: Int32
    private let address: [UInt8]
    /// The largest datagram the destination can take.
    let maxDatagram: Int

    static func udp(host: String, port: Int) throws -> DatagramSocket {
        var hints = addrinfo()
        hints.ai_socktype = CWickLinux_SOCK_DGRAM()
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw SendError(message: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, CWickLinux_SOCK_DGRAM() | CWickLinux_SOCK_CLOEXEC(), 0)
        guard fd >= 0 else { throw SendError(message: "socket: \(errorText())") }
        // A large send buffer keeps sendmmsg from stalling on bursts.
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        let address = Array(UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen)))
        return DatagramSocket(descriptor: fd, address: address, maxDatagram: 65_507)
    }

    static func unix(path: String) throws -> DatagramSocket {
        let fd = socket(AF_UNIX, CWickLinux_SOCK_DGRAM() | CWickLinux_SOCK_CLOEXEC(), 0)
        guard fd >= 0 else { throw SendError(message: "socket: \(errorText())") }
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var sun = try unixAddress(path)
        let address = withUnsafeBytes(of: &sun) { Array($0) }
        return DatagramSocket(descriptor: fd, address: address, maxDatagram: 1 << 20)
    }

    /// Sends as many of the datagrams as the kernel takes in one call; returns how many (0 when it
    /// refused the first one: the caller counts it as unsent).
    func send(_ pointers: [UnsafeRawPointer?], _ lengths: [Int]) throws -> Int {
        while true {
            let sent = address.withUnsafeBytes { raw in
                pointers.withUnsafeBufferPointer { buffers in
                    lengths.withUnsafeBufferPointer { sizes in
                        CWickLinux_sendmmsg_buffers(descriptor, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self),
                                                    socklen_t(raw.count), buffers.baseAddress, sizes.baseAddress,
                                                    UInt32(pointers.count))
                    }
                }
            }
            if sent >= 0 { return Int(sent) }
            switch errno {
            case EINTR: continue
            case EAGAIN, ENOBUFS:
                usleep(100)
                continue
            case ECONNREFUSED, EMSGSIZE, ENOENT:
                return 0
            default:
                throw SendError(message: "sendmmsg: \(errorText())")
            }
        }
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}
