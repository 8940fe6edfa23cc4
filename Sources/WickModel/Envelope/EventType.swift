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
        guard !field.hasEscapes else {
            guard let match = EventType.allCases.first(where: { field.equals($0.wireName, in: line) }) else { return nil }
            self = match
            return
        }
        // A switch on the length and two bytes (the first, and `c` or `u` of create or update),
        // then one comparison: every event's type is read this way, at ingest and in compaction.
        let length = field.range.count
        guard length >= 7 else { return nil }
        let name = line.baseAddress! + field.range.lowerBound
        let first = name.load(as: UInt8.self)
        let second = name.load(fromByteOffset: 1, as: UInt8.self)
        let verb = name.load(fromByteOffset: length - 6, as: UInt8.self)
        let c = UInt8(ascii: "c"), u = UInt8(ascii: "u")
        let candidate: EventType
        switch (length, first, verb) {
        case (7, _, _): candidate = .sdkLog
        case (11, UInt8(ascii: "s"), c): candidate = .spanCreate
        case (11, UInt8(ascii: "s"), u): candidate = .spanUpdate
        case (11, UInt8(ascii: "t"), _): candidate = .toolCreate
        case (12, UInt8(ascii: "t"), _): candidate = .traceCreate
        case (12, UInt8(ascii: "e"), _): candidate = .eventCreate
        case (12, UInt8(ascii: "a"), _): candidate = .agentCreate
        case (12, UInt8(ascii: "c"), _): candidate = .chainCreate
        case (12, UInt8(ascii: "s"), _): candidate = .scoreCreate
        case (16, UInt8(ascii: "r"), _): candidate = .retrieverCreate
        case (16, UInt8(ascii: "e"), _): candidate = second == UInt8(ascii: "v") ? .evaluatorCreate : .embeddingCreate
        case (16, UInt8(ascii: "g"), _): candidate = .guardrailCreate
        case (17, UInt8(ascii: "g"), c): candidate = .generationCreate
        case (17, UInt8(ascii: "g"), u): candidate = .generationUpdate
        case (18, UInt8(ascii: "o"), c): candidate = .observationCreate
        case (18, UInt8(ascii: "o"), u): candidate = .observationUpdate
        default: return nil
        }
        guard field.equals(candidate.wireName, in: line) else { return nil }
        self = candidate
    }

}
