public import WickJSON

/// A body field as one event gives it: not at all, as an explicit `null`, or with a value. Langfuse
/// treats absent and `null` differently for some fields (a `null` name clears the name; an absent
/// one leaves it), so the fold must know which it was.
public enum Given<Value: Sendable & Hashable>: Sendable, Hashable {
    case absent
    case null
    case value(Value)

    /// The value, nil when absent or null.
    public var value: Value? {
        if case .value(let value) = self { return value }
        return nil
    }

    /// Present in the body, as a value or as null.
    public var isGiven: Bool {
        if case .absent = self { return false }
        return true
    }
}

/// The body of an ingestion event, decoded and typed: every field Langfuse's schemas give the trace,
/// observation and score bodies (reference §1.4), checked for type as it is decoded. Fields where
/// Langfuse makes no difference between absent and `null` are plain optionals. Prompts and
/// completions (`input`, `output`) stay JSON text until read. Keys outside the schemas are not
/// kept here (the stored event keeps them, byte for byte).
public struct EventBody: Sendable, Hashable {
    public var id: String?
    public var traceId: String?
    public var name: Given<String> = .absent
    /// The trace's or score's own `timestamp`.
    public var timestamp: Timestamp?
    public var environment: String?
    public var metadata: JSONValue?
    public var input: JSONValue?
    public var output: JSONValue?
    public var version: Given<String> = .absent

    // Traces.
    public var userId: Given<String> = .absent
    public var sessionId: Given<String> = .absent
    public var release: Given<String> = .absent
    public var tags: [String]?
    public var isPublic: Bool?

    // Observations.
    /// The legacy `observation-create` body's `type` (`GENERATION`, `SPAN`, `EVENT`).
    public var observationType: String?
    public var parentObservationId: String?
    public var startTime: Timestamp?
    public var endTime: Timestamp?
    public var completionStartTime: Timestamp?
    public var level: Given<ObservationLevel> = .absent
    public var statusMessage: String?
    public var model: Given<String> = .absent
    public var modelParameters: JSONObject?
    public var usage: JSONObject?
    public var usageDetails: JSONObject?
    public var costDetails: JSONObject?
    public var promptName: String?
    public var promptVersion: Int?

    // Scores.
    /// A number or a string.
    public var value: JSONValue?
    public var dataType: ScoreDataType?
    public var observationId: String?
    public var datasetRunId: String?
    public var comment: Given<String> = .absent
    public var configId: String?
    /// A CATEGORICAL score's numeric value from its config's category (set by `ScoreConfigs.check`).
    public var categoryValue: Double?
    public var source: String?

    public init() {}
}
