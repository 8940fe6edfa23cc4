/// Where an input came from, kept with every dead letter and used as a metrics label.
public enum IngestSource: String, Sendable, Hashable, CaseIterable {
    case unix
    case udp
    case unixDatagram = "unix_datagram"
    case http
    case otlp
    case late
    /// `wick import`: events of another data directory.
    case imported = "import"
}
