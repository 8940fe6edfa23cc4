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
    /// With acks: how long lines waited from being written to being acknowledged (durable).
    public var ackLatency: AckLatency? = nil

    public init() {}
}

/// Percentiles of the time from writing a line to an ack covering it, over lines.
public struct AckLatency: Sendable, Equatable {
    public var p50: Double
    public var p99: Double
    public var max: Double

    init?(_ samples: [(seconds: Double, lines: Int)]) {
        let sorted = samples.filter { $0.lines > 0 }.sorted { $0.seconds < $1.seconds }
        let total = sorted.reduce(0) { $0 + $1.lines }
        guard total > 0 else { return nil }
        func percentile(_ fraction: Double) -> Double {
            let rank = Int((Double(total) * fraction).rounded(.up))
            var seen = 0
            for sample in sorted {
                seen += sample.lines
                if seen >= rank { return sample.seconds }
            }
            return sorted[sorted.count - 1].seconds
        }
        p50 = percentile(0.5)
        p99 = percentile(0.99)
        max = sorted[sorted.count - 1].seconds
    }
}

public struct SendError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
