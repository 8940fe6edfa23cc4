/// What a segment holds, fixed in its header.
public struct SegmentKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Events as received.
    public static let raw = SegmentKind(rawValue: 1)
    /// Documents rewritten by compaction.
    public static let compacted = SegmentKind(rawValue: 2)
    /// The dead-letter log: rejected inputs with their reasons.
    public static let reject = SegmentKind(rawValue: 3)

    public var description: String {
        switch self {
        case .raw: "raw"
        case .compacted: "compacted"
        case .reject: "reject"
        default: "kind-\(rawValue)"
        }
    }
}
