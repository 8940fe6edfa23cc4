/// Where `wick send` sends.
public enum SendTarget: Sendable, Hashable {
    case unixStream(path: String)
    case udp(host: String, port: Int)
    case unixDatagram(path: String)
}

public struct SendOptions: Sendable {
    public var target: SendTarget
    /// Ask for acks and wait until every line is durable or rejected (Unix stream only).
    public var acknowledged: Bool
    /// Lines per second; nil sends as fast as the socket takes them.
    public var rate: Double?
    /// Datagrams per sendmmsg call (UDP and Unix datagram).
    public var datagramBatch: Int

    public init(target: SendTarget, acknowledged: Bool = false, rate: Double? = nil, datagramBatch: Int = 64) {
        self.target = target
        self.acknowledged = acknowledged
        self.rate = rate
        self.datagramBatch = datagramBatch
    }
}

/// What a send did.
public struct SendSummary: Sendable, Equatable {
    public var lines = 0
    public var bytes = 0
    /// With acks: lines durable, rejected or ignored, and of them rejected, as the daemon reported.
    public var acknowledged: Int? = nil
    public var rejected: Int? = nil
    public var datagrams = 0
    /// Lines not sent: too large for a datagram, or refused by the socket (ENOBUFS, ECONNREFUSED).
    public var unsent = 0
    public var seconds = 0.0
    /// The daemon's error line, if it sent one (a storage failure closes the connection).
    public var error: String? = nil

    public init() {}
}

public struct SendError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
