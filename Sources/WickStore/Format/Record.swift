/// What a record holds. The store treats all kinds alike; consumers filter on it.
public struct RecordKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// An event as a client sent it, bytes verbatim.
    public static let rawEvent = RecordKind(rawValue: 1)
    /// A document written by compaction (one per entity group).
    public static let compactedDocument = RecordKind(rawValue: 2)
    /// A rejected input, kept in the dead-letter log with its reason.
    public static let reject = RecordKind(rawValue: 3)

    public var description: String {
        switch self {
        case .rawEvent: "raw"
        case .compactedDocument: "compacted"
        case .reject: "reject"
        default: "kind-\(rawValue)"
        }
    }
}

/// A namespace of index keys. The store indexes every key a record carries; what a space means
/// (trace ids, event ids, observation ids) is the caller's business.
public struct KeySpace: RawRepresentable, Hashable, Sendable, Comparable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static func < (lhs: KeySpace, rhs: KeySpace) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One index key of a record.
public struct IndexKey: Hashable, Sendable {
    public var space: KeySpace
    public var bytes: [UInt8]

    public init(space: KeySpace, bytes: [UInt8]) {
        self.space = space
        self.bytes = bytes
    }

    public init(space: KeySpace, _ string: String) {
        self.init(space: space, bytes: Array(string.utf8))
    }
}

/// Where a frame starts: the unit an index entry points at.
public struct FrameLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var segment: UInt64
    public var offset: Int64

    public init(segment: UInt64, offset: Int64) {
        self.segment = segment
        self.offset = offset
    }

    public static func < (lhs: FrameLocation, rhs: FrameLocation) -> Bool {
        (lhs.segment, lhs.offset) < (rhs.segment, rhs.offset)
    }

    public var description: String { "\(segment)@\(offset)" }
}

/// A record decoded from a frame, owning its bytes.
public struct StoredRecord: Sendable, Hashable {
    public var sequence: UInt64
    public var kind: RecordKind
    /// Microseconds since the Unix epoch, by the daemon's clock.
    public var receiveTime: Int64
    public var project: String
    public var keys: [IndexKey]
    public var payload: [UInt8]

    public init(sequence: UInt64, kind: RecordKind, receiveTime: Int64, project: String, keys: [IndexKey], payload: [UInt8]) {
        self.sequence = sequence
        self.kind = kind
        self.receiveTime = receiveTime
        self.project = project
        self.keys = keys
        self.payload = payload
    }
}
