public import WickJSON

/// A trace after folding all its `trace-create` events by Langfuse's rules (reference §1.8).
public struct Trace: Sendable, Hashable {
    public var id: String
    public var timestamp: Timestamp
    public var name: String?
    public var userId: String?
    public var sessionId: String?
    public var release: String?
    public var version: String?
    public var input: JSONValue?
    public var output: JSONValue?
    public var metadata: JSONObject
    public var tags: [String]
    public var isPublic: Bool
    public var environment: String
    /// False when no `trace-create` was seen: the trace exists because observations or scores name it.
    public var hasTraceEvent: Bool
    /// Envelope timestamp of the last `trace-create` folded (a compacted document's event carries it,
    /// so that late events fold in Langfuse's order around it).
    public var lastEventTime: Timestamp

    public init(id: String, timestamp: Timestamp) {
        self.id = id
        self.timestamp = timestamp
        lastEventTime = timestamp
        metadata = JSONObject()
        tags = []
        isPublic = false
        environment = "default"
        hasTraceEvent = false
    }
}

/// An observation (span, generation, event, agent, tool, …) after folding its events.
public struct Observation: Sendable, Hashable {
    public var id: String
    public var traceId: String
    public var type: ObservationType
    public var name: String?
    public var startTime: Timestamp
    public var endTime: Timestamp?
    public var completionStartTime: Timestamp?
    public var model: String?
    public var modelParameters: JSONValue?
    public var input: JSONValue?
    public var output: JSONValue?
    public var metadata: JSONObject
    public var level: ObservationLevel
    public var statusMessage: String?
    public var parentObservationId: String?
    public var version: String?
    public var environment: String
    public var promptName: String?
    public var promptVersion: Int?
    /// Usage by key after normalisation (reference §1.5): `input`, `output`, `total`, `input_cached_tokens`, ….
    public var usageDetails: [String: UInt64]
    /// The unit of legacy `usage` (`TOKENS`, `CHARACTERS`, …), when one was given.
    public var usageUnit: String?
    /// Costs the client provided, by key, in USD (decimal text kept exact).
    public var providedCostDetails: [String: JSONNumber]
    /// Its cost: the provided one, or computed from usage and the price table; nil when neither.
    public var cost: ObservationCost?
    /// Envelope timestamp of the last event folded into it.
    public var lastEventTime: Timestamp

    public init(id: String, traceId: String, type: ObservationType, startTime: Timestamp) {
        self.id = id
        self.traceId = traceId
        self.type = type
        self.startTime = startTime
        lastEventTime = startTime
        metadata = JSONObject()
        level = .default
        environment = "default"
        usageDetails = [:]
        providedCostDetails = [:]
    }
}

/// A score's data type (reference §4).
public enum ScoreDataType: String, Sendable, Hashable, CaseIterable {
    case numeric = "NUMERIC"
    case boolean = "BOOLEAN"
    case categorical = "CATEGORICAL"
    case text = "TEXT"
    case correction = "CORRECTION"
}

/// A score after folding its events.
public struct Score: Sendable, Hashable {
    public var id: String
    public var timestamp: Timestamp
    public var name: String
    public var dataType: ScoreDataType
    /// The numeric value (NUMERIC, BOOLEAN; 0 for the textual types).
    public var value: Double
    /// The textual value (CATEGORICAL, TEXT, CORRECTION; "True"/"False" for BOOLEAN).
    public var stringValue: String?
    public var traceId: String?
    public var observationId: String?
    public var sessionId: String?
    public var datasetRunId: String?
    public var comment: String?
    public var metadata: JSONObject
    public var source: String
    public var configId: String?
    public var environment: String
    /// Envelope timestamp of the last event folded into it.
    public var lastEventTime: Timestamp

    public init(id: String, timestamp: Timestamp, name: String, dataType: ScoreDataType, value: Double) {
        self.id = id
        self.timestamp = timestamp
        lastEventTime = timestamp
        self.name = name
        self.dataType = dataType
        self.value = value
        metadata = JSONObject()
        source = "API"
        environment = "default"
    }
}
