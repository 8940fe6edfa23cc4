/// One place where events come in.
public struct ListenerConfiguration: Sendable, Hashable {
    public enum Endpoint: Sendable, Hashable {
        /// A Unix stream socket at `path`, created with `mode` and, when given, owned by `group`.
        case unixStream(path: String, mode: UInt32, group: String?)
        /// A UDP socket; port 0 picks a free one.
        case udp(host: String, port: Int)
        /// A Unix datagram socket at `path`.
        case unixDatagram(path: String, mode: UInt32, group: String?)
        /// A socket handed over by systemd (LISTEN_FDS), already bound.
        case inherited(descriptor: Int32, kind: Kind)
    }

    public enum Kind: String, Sendable, Hashable {
        case unixStream = "unix"
        case udp
        case unixDatagram = "unix_datagram"
    }

    public var endpoint: Endpoint
    /// The Langfuse project every event from here belongs to.
    public var project: String
    /// SO_RCVBUF for datagram sockets (SO_RCVBUFFORCE is tried first, which root may use to go past
    /// net.core.rmem_max); nil leaves the kernel's default.
    public var receiveBufferBytes: Int?

    public init(endpoint: Endpoint, project: String = "default", receiveBufferBytes: Int? = nil) {
        self.endpoint = endpoint
        self.project = project
        self.receiveBufferBytes = receiveBufferBytes
    }

    public var kind: Kind {
        switch endpoint {
        case .unixStream: .unixStream
        case .udp: .udp
        case .unixDatagram: .unixDatagram
        case .inherited(_, let kind): kind
        }
    }
}

/// Where a listener actually listens (port 0 resolved), for the line `wick serve` prints.
public struct BoundListener: Sendable, Hashable {
    public var kind: ListenerConfiguration.Kind
    /// A path for Unix sockets, `host:port` for UDP.
    public var address: String
    public var project: String
    /// The SO_RCVBUF the kernel granted (datagram sockets).
    public var receiveBufferBytes: Int?
}
