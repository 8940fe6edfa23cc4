public import WickJSON

/// An event that passed the hot-path checks.
public struct ValidatedEvent: Sendable, Hashable {
    public var type: EventType
    /// The trace the event belongs to: `body.id` of a trace, `body.traceId` of anything else, an
    /// observation's own `body.id` when it names no trace; nil for `sdk-log` and for scores of a
    /// session or dataset run.
    public var traceID: JSONField?
}

/// The outcome of checking one event envelope.
public enum EnvelopeCheck: Sendable, Hashable {
    case accepted(ValidatedEvent)
    case rejected(RejectReason, detail: String)
}

/// The checks every event gets before it is stored (langfuse-wire.md §1.2–1.6): the envelope's
/// fields present and well typed, a known type, ids of 1 to 800 characters without a carriage return,
/// a timestamp with an offset, a body object with an id, and for scores a name, a value whose type
/// fits the data type and string targets. Unknown extra fields are fine. Anything deeper (body field types, score
/// configs) is checked when events are fully decoded, off the hot path, as late rejects.
///
/// Pure: it reads the scanner's fields and the line's bytes, nothing else.
public enum EnvelopeValidator: Sendable {
    /// Langfuse's id limit (zod `.max(800)`, counted in UTF-16 code units as JavaScript does).
    public static let maxIDLength = 800

    public static func check(_ event: EnvelopeFields, in line: UnsafeRawBufferPointer) -> EnvelopeCheck {
        if let duplicate = event.duplicateKey {
            return .rejected(.duplicateEnvelopeKey, detail: "envelope key \"\(duplicate)\" appears twice")
        }
        guard let id = event.id, !id.isNull else { return .rejected(.missingID, detail: "the event has no id") }
        if let problem = idProblem(id, in: line) { return .rejected(.invalidID, detail: "event id \(problem)") }

        guard let typeField = event.type, !typeField.isNull else { return .rejected(.missingType, detail: "the event has no type") }
        guard let type = EventType(typeField, in: line) else {
            if typeField.kind == .string, typeField.equals("dataset-run-item-create", in: line) {
                return .rejected(.internalType, detail: "dataset-run-item-create is internal to Langfuse and not accepted from clients")
            }
            return .rejected(.unknownType, detail: typeField.kind == .string
                ? "unknown event type \"\(String(typeField.string(in: line).prefix(64)))\""
                : "type is a \(typeField.kind), not a string")
        }

        guard let timestamp = event.timestamp, !timestamp.isNull else {
            return .rejected(.missingTimestamp, detail: "the event has no timestamp")
        }
        guard timestamp.kind == .string, Timestamp(timestamp, in: line) != nil else {
            return .rejected(.invalidTimestamp, detail: timestamp.kind == .string
                ? "timestamp is not an ISO 8601 date-time with an offset"
                : "timestamp is a \(timestamp.kind), not a string")
        }

        guard let body = event.body, !body.isNull else { return .rejected(.missingBody, detail: "the event has no body") }
        guard body.kind == .object else { return .rejected(.bodyNotObject, detail: "body is a \(body.kind), not an object") }
        let fields = event.bodyFields

        // sdk-log bodies are `{log, id?}`: kept and counted, never part of a trace.
        if type == .sdkLog { return .accepted(ValidatedEvent(type: type, traceID: nil)) }

        guard let bodyID = fields.id, !bodyID.isNull else {
            // Langfuse answers 201 and then silently drops such an event; Wick says so.
            return .rejected(.missingBodyID, detail: "body.id is missing: Langfuse would drop this event silently")
        }
        if let problem = idProblem(bodyID, in: line) { return .rejected(.invalidBodyID, detail: "body.id \(problem)") }

        var traceID: JSONField? = nil
        if type == .traceCreate {
            traceID = bodyID
        } else if let trace = fields.traceId, !trace.isNull {
            // A score's targets are plain strings to Langfuse (its BaseScoreBody), not ids of the
            // S3 key budget: any string will do there.
            if let problem = type == .scoreCreate ? stringProblem(trace) : idProblem(trace, in: line) {
                return .rejected(.invalidTraceID, detail: "body.traceId \(problem)")
            }
            traceID = trace
        } else if type != .scoreCreate {
            // An observation naming no trace is its own trace (Langfuse's wrapper trace for such events).
            traceID = bodyID
        }

        if type == .scoreCreate, let rejection = scoreProblem(fields, in: line) {
            return rejection
        }
        return .accepted(ValidatedEvent(type: type, traceID: traceID))
    }

    /// Why a field is not a valid Langfuse id, nil when it is.
    static func idProblem(_ field: JSONField, in line: UnsafeRawBufferPointer) -> String? {
        guard field.kind == .string else { return "is a \(field.kind), not a string" }
        let length = field.hasEscapes ? field.utf16Count(in: line) : field.range.count
        if length == 0 { return "is empty" }
        // Without escapes every byte is at least one UTF-16 unit, so only long raw strings need counting.
        if length > maxIDLength && (field.hasEscapes || field.utf16Count(in: line) > maxIDLength) {
            return "is longer than \(maxIDLength) characters"
        }
        if field.containsCarriageReturn(in: line) { return "contains a carriage return" }
        return nil
    }

    private static func scoreProblem(_ fields: BodyFields, in line: UnsafeRawBufferPointer) -> EnvelopeCheck? {
        guard let name = fields.name, name.kind == .string, name.range.count > 0 else {
            return .rejected(.scoreMissingName, detail: "a score needs a non-empty string name")
        }
        guard let value = fields.value, !value.isNull else {
            return .rejected(.scoreMissingValue, detail: "a score needs a value")
        }
        guard value.kind == .number || value.kind == .string else {
            return .rejected(.scoreInvalidValue, detail: "score value is a \(value.kind), not a number or string")
        }
        if let dataType = fields.dataType, !dataType.isNull {
            guard dataType.kind == .string else {
                return .rejected(.scoreInvalidDataType, detail: "dataType is a \(dataType.kind), not a string")
            }
            let numeric = dataType.equals("NUMERIC", in: line) || dataType.equals("BOOLEAN", in: line)
            let textual = dataType.equals("CATEGORICAL", in: line) || dataType.equals("TEXT", in: line)
                || dataType.equals("CORRECTION", in: line)
            guard numeric || textual else {
                return .rejected(.scoreInvalidDataType, detail: "unknown score dataType \"\(String(dataType.string(in: line).prefix(32)))\"")
            }
            if numeric && value.kind != .number {
                return .rejected(.scoreInvalidValue, detail: "a \(dataType.string(in: line)) score needs a number value")
            }
            if textual && value.kind != .string {
                return .rejected(.scoreInvalidValue, detail: "a \(dataType.string(in: line)) score needs a string value")
            }
        }
        // traceId was checked with every other event's.
        for (target, label) in [(fields.observationId, "observationId"), (fields.sessionId, "sessionId")] {
            if let target, !target.isNull, let problem = stringProblem(target) {
                return .rejected(.scoreInvalidTarget, detail: "score \(label) \(problem)")
            }
        }
        return nil
    }

    /// Why a field is not a string, nil when it is.
    static func stringProblem(_ field: JSONField) -> String? {
        field.kind == .string ? nil : "is a \(field.kind), not a string"
    }
}
