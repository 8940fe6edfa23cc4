public import WickJSON

/// Why an input was rejected: a stable snake_case label, counted in metrics and kept with every
/// dead letter. New reasons can be added; existing labels never change meaning.
public struct RejectReason: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    // Framing
    public static let lineTooLong = RejectReason(rawValue: "line_too_long")
    public static let datagramTruncated = RejectReason(rawValue: "datagram_truncated")

    // Envelope
    public static let batchElementNotObject = RejectReason(rawValue: "batch_element_not_object")
    public static let duplicateEnvelopeKey = RejectReason(rawValue: "duplicate_envelope_key")
    public static let missingID = RejectReason(rawValue: "missing_id")
    public static let invalidID = RejectReason(rawValue: "invalid_id")
    public static let missingType = RejectReason(rawValue: "missing_type")
    public static let unknownType = RejectReason(rawValue: "unknown_type")
    public static let internalType = RejectReason(rawValue: "internal_type")
    public static let missingTimestamp = RejectReason(rawValue: "missing_timestamp")
    public static let invalidTimestamp = RejectReason(rawValue: "invalid_timestamp")
    public static let missingBody = RejectReason(rawValue: "missing_body")
    public static let bodyNotObject = RejectReason(rawValue: "body_not_object")
    public static let missingBodyID = RejectReason(rawValue: "missing_body_id")
    public static let invalidBodyID = RejectReason(rawValue: "invalid_body_id")
    public static let invalidTraceID = RejectReason(rawValue: "invalid_trace_id")

    // Scores
    public static let scoreMissingName = RejectReason(rawValue: "score_missing_name")
    public static let scoreMissingValue = RejectReason(rawValue: "score_missing_value")
    public static let scoreInvalidValue = RejectReason(rawValue: "score_invalid_value")
    public static let scoreInvalidDataType = RejectReason(rawValue: "score_invalid_data_type")
    public static let scoreInvalidTarget = RejectReason(rawValue: "score_invalid_target")

    /// The reason for a line that is not valid JSON (`json_truncated`, `json_invalid_utf8`, …).
    public static func json(_ error: JSONScanError) -> RejectReason {
        RejectReason(rawValue: error.code.reason)
    }
}
