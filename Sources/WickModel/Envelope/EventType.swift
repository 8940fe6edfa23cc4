public import WickJSON

/// The event types of Langfuse's ingestion API (reference: langfuse-wire.md §1.3), including the
/// typed observation creates the OTel converter emits and the legacy observation events.
public enum EventType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case traceCreate
    case spanCreate, spanUpdate
    case generationCreate, generationUpdate
    case eventCreate
    case agentCreate, toolCreate, chainCreate, retrieverCreate, evaluatorCreate, embeddingCreate, guardrailCreate
    case scoreCreate
    case sdkLog
    case observationCreate, observationUpdate

    /// The type as it appears on the wire.
    public var wireName: StaticString {
        switch self {
        case .traceCreate: "trace-create"
        case .spanCreate: "span-create"
        case .spanUpdate: "span-update"
        case .generationCreate: "generation-create"
        case .generationUpdate: "generation-update"
        case .eventCreate: "event-create"
        case .agentCreate: "agent-create"
        case .toolCreate: "tool-create"
        case .chainCreate: "chain-create"
        case .retrieverCreate: "retriever-create"
        case .evaluatorCreate: "evaluator-create"
        case .embeddingCreate: "embedding-create"
        case .guardrailCreate: "guardrail-create"
        case .scoreCreate: "score-create"
        case .sdkLog: "sdk-log"
        case .observationCreate: "observation-create"
        case .observationUpdate: "observation-update"
        }
    }

    public var description: String { wireName.description }

    /// True for every type whose body is an observation.
    public var isObservation: Bool {
        switch self {
        case .traceCreate, .scoreCreate, .sdkLog: false
        default: true
        }
    }

    /// The type named by a string field of a scanned line, nil when it names none.
    @inlinable
    public init?(_ field: JSONField, in line: UnsafeRawBufferPointer) {
        guard field.kind == .string else { return nil }
        // Every wire name is 7 to 18 bytes; dispatching on the length first keeps this to one or
        // two comparisons per event.
        let length = field.range.count
        guard !field.hasEscapes else {
            guard let match = EventType.allCases.first(where: { field.equals($0.wireName, in: line) }) else { return nil }
            self = match
            return
        }
        for candidate in EventType.byLength[min(length, EventType.byLength.count - 1)] where field.equals(candidate.wireName, in: line) {
            self = candidate
            return
        }
        return nil
    }

    @usableFromInline
    static let byLength: [[EventType]] = {
        var table = [[EventType]](repeating: [], count: 20)
        for type in EventType.allCases {
            table[type.wireName.utf8CodeUnitCount].append(type)
        }
        return table
    }()
}
