public import WickJSON

/// Where a running daemon listens: printed as one JSON line by `wick serve` and kept in
/// `<data-dir>/runtime.json`, so scripts, tests and `wick stats`/`wick send` can find it.
public struct ListeningAnnouncement: Sendable, Equatable {
    public var pid: Int
    public var dataDirectory: String
    public var unix: String?
    public var udp: String?
    public var unixDatagram: String?
    public var metrics: String?
    /// The Langfuse-compatible API, HOST:PORT.
    public var http: String?
    public var udpReceiveBufferBytes: Int?

    public var json: JSONValue {
        var object: JSONObject = ["event": .string("listening"), "pid": .number(JSONNumber(pid)),
                                  "data_dir": .string(dataDirectory)]
        if let unix { object["unix"] = .string(unix) }
        if let udp { object["udp"] = .string(udp) }
        if let unixDatagram { object["unix_datagram"] = .string(unixDatagram) }
        if let metrics { object["metrics"] = .string(metrics) }
        if let http { object["http"] = .string(http) }
        if let udpReceiveBufferBytes { object["udp_receive_buffer_bytes"] = .number(JSONNumber(udpReceiveBufferBytes)) }
        return .object(object)
    }

    public var line: String {
        String(decoding: json.serialized(), as: UTF8.self)
    }

    public init(pid: Int, dataDirectory: String, unix: String?, udp: String?, unixDatagram: String?, metrics: String?,
                http: String? = nil, udpReceiveBufferBytes: Int? = nil) {
        self.http = http
        self.pid = pid
        self.dataDirectory = dataDirectory
        self.unix = unix
        self.udp = udp
        self.unixDatagram = unixDatagram
        self.metrics = metrics
        self.udpReceiveBufferBytes = udpReceiveBufferBytes
    }

    /// Reads an announcement back (from runtime.json).
    public init?(json value: JSONValue) {
        guard value["event"]?.stringValue == "listening", let pid = value["pid"]?.numberValue?.int64Value,
              let directory = value["data_dir"]?.stringValue
        else { return nil }
        self.init(pid: Int(pid), dataDirectory: directory, unix: value["unix"]?.stringValue, udp: value["udp"]?.stringValue,
                  unixDatagram: value["unix_datagram"]?.stringValue, metrics: value["metrics"]?.stringValue,
                  http: value["http"]?.stringValue,
                  udpReceiveBufferBytes: value["udp_receive_buffer_bytes"]?.numberValue?.int64Value.map(Int.init))
    }
}
