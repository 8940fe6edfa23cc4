public import WickJSON

/// One Langfuse ingestion event, fully decoded: what the assembler folds. Built from a stored
/// record's payload (the bytes the client sent) off the hot path.
public struct IngestionEvent: Sendable, Hashable {
    public var id: String
    public var type: EventType
    public var timestamp: Timestamp
    public var body: JSONObject
    /// The store's sequence number: arrival order, the last tie-breaker when folding.
    public var sequence: UInt64
    /// The daemon's clock when it arrived (µs).
    public var receiveTime: Int64
    public var project: String

    public init(id: String, type: EventType, timestamp: Timestamp, body: JSONObject, sequence: UInt64,
                receiveTime: Int64, project: String) {
        self.id = id
        self.type = type
        self.timestamp = timestamp
        self.body = body
        self.sequence = sequence
        self.receiveTime = receiveTime
        self.project = project
    }

    /// The entity id (`body.id`).
    public var entityID: String? { body["id"]?.stringValue }

    /// The trace an event belongs to: a trace's own id; an observation's `traceId`, or, when it has
    /// none, its own id (Langfuse wraps such observations in a trace of that id); a score's
    /// `traceId`. Nil for session and dataset-run scores and for `sdk-log`.
    public var traceID: String? {
        switch type {
        case .traceCreate: return entityID
        case .scoreCreate: return body["traceId"]?.stringValue
        case .sdkLog: return nil
        default: return body["traceId"]?.stringValue ?? entityID
        }
    }
}

/// An event that passed the hot-path checks but fails full decoding: kept in the dead-letter log
/// with its reason, counted, and left out of every trace (Langfuse drops these silently).
public struct LateReject: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: RejectReason
    public var detail: String

    public init(_ reason: RejectReason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason): \(detail)" }
}

extension RejectReason {
    /// A body field whose JSON type is not the one Langfuse's schema gives it.
    public static let bodyFieldType = RejectReason(rawValue: "body_field_type")
    /// A body field with a value its type does not allow (an unknown level, a negative cost …).
    public static let bodyFieldValue = RejectReason(rawValue: "body_field_value")
}
