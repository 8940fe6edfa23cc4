public import WickJSON

/// One Langfuse ingestion event, fully decoded: what the assembler folds. Built from a stored
/// record's payload (the bytes the client sent) off the hot path. A class, immutable: the fold
/// sorts, groups and passes events around, and a body is large.
public final class IngestionEvent: Sendable {
    public let id: String
    public let type: EventType
    public let timestamp: Timestamp
    public let body: EventBody
    /// The store's sequence number: arrival order, the last tie-breaker when folding.
    public let sequence: UInt64
    /// The daemon's clock when it arrived (µs).
    public let receiveTime: Int64
    public let project: String

    public init(id: String, type: EventType, timestamp: Timestamp, body: EventBody, sequence: UInt64,
                receiveTime: Int64, project: String) {
        self.id = id
        self.type = type
        self.timestamp = timestamp
        self.body = body
        self.sequence = sequence
        self.receiveTime = receiveTime
        self.project = project
    }

    /// The same event, as if it had arrived as `sequence`.
    public func with(sequence: UInt64) -> IngestionEvent {
        IngestionEvent(id: id, type: type, timestamp: timestamp, body: body, sequence: sequence, receiveTime: receiveTime,
                       project: project)
    }

    /// The entity id (`body.id`).
    public var entityID: String? { body.id }

    /// The trace an event belongs to: a trace's own id; an observation's `traceId`, or, when it has
    /// none, its own id (Langfuse wraps such observations in a trace of that id); a score's
    /// `traceId`. Nil for session and dataset-run scores and for `sdk-log`.
    public var traceID: String? {
        switch type {
        case .traceCreate: return entityID
        case .scoreCreate: return body.traceId
        case .sdkLog: return nil
        default: return body.traceId ?? entityID
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
