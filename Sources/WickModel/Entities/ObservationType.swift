/// The kind of an observation, as Langfuse stores it (`SPAN`, `GENERATION`, …).
public enum ObservationType: String, Sendable, Hashable, CaseIterable, Comparable {
    case span = "SPAN"
    case generation = "GENERATION"
    case event = "EVENT"
    case agent = "AGENT"
    case tool = "TOOL"
    case chain = "CHAIN"
    case retriever = "RETRIEVER"
    case evaluator = "EVALUATOR"
    case embedding = "EMBEDDING"
    case guardrail = "GUARDRAIL"

    public static func < (lhs: ObservationType, rhs: ObservationType) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Generation-like types take model, usage and cost fields (they share Langfuse's
    /// CreateGenerationBody).
    public var isGenerationLike: Bool {
        switch self {
        case .span, .event: false
        default: true
        }
    }

    /// The type an event type fixes (legacy observation events name it in their body).
    static func of(_ eventType: EventType) -> ObservationType? {
        switch eventType {
        case .spanCreate, .spanUpdate: .span
        case .generationCreate, .generationUpdate: .generation
        case .eventCreate: .event
        case .agentCreate: .agent
        case .toolCreate: .tool
        case .chainCreate: .chain
        case .retrieverCreate: .retriever
        case .evaluatorCreate: .evaluator
        case .embeddingCreate: .embedding
        case .guardrailCreate: .guardrail
        case .traceCreate, .scoreCreate, .sdkLog, .observationCreate, .observationUpdate: nil
        }
    }
}

/// An observation's level; `DEFAULT` when none was given.
public enum ObservationLevel: String, Sendable, Hashable, CaseIterable, Comparable {
    case debug = "DEBUG"
    case `default` = "DEFAULT"
    case warning = "WARNING"
    case error = "ERROR"

    private var rank: Int {
        switch self {
        case .debug: 0
        case .default: 1
        case .warning: 2
        case .error: 3
        }
    }

    public static func < (lhs: ObservationLevel, rhs: ObservationLevel) -> Bool { lhs.rank < rhs.rank }
}

extension EventType {
    /// `*-update` events sort after creates with the same timestamp (Langfuse's tie rule).
    public var isUpdate: Bool {
        switch self {
        case .spanUpdate, .generationUpdate, .observationUpdate: true
        default: false
        }
    }
}
