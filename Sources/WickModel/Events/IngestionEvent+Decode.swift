public import WickJSON

extension IngestionEvent {
    /// Decodes a stored event (its payload is the JSON the client sent, which already passed the hot
    /// path's envelope checks) and checks every body field Langfuse's schema types.
    public static func decode(_ payload: UnsafeRawBufferPointer, sequence: UInt64, receiveTime: Int64,
                              project: String) -> Result<IngestionEvent, LateReject> {
        let value: JSONValue
        do {
            value = try JSONValue.parse(payload)
        } catch {
            return .failure(LateReject(.json(error), "\(error)"))
        }
        guard let envelope = value.objectValue, let id = envelope["id"]?.stringValue,
              let typeName = envelope["type"]?.stringValue, let timestampText = envelope["timestamp"]?.stringValue,
              let timestamp = Timestamp(iso8601: timestampText), let body = envelope["body"]?.objectValue
        else { return .failure(LateReject(.bodyFieldType, "the envelope does not decode")) }
        guard let type = EventType.allCases.first(where: { $0.description == typeName }) else {
            return .failure(LateReject(.unknownType, "unknown event type \"\(typeName.prefix(64))\""))
        }
        if let problem = BodySchema.problem(in: body, for: type) {
            return .failure(problem)
        }
        return .success(IngestionEvent(id: id, type: type, timestamp: timestamp, body: body, sequence: sequence,
                                       receiveTime: receiveTime, project: project))
    }

    public static func decode(_ payload: [UInt8], sequence: UInt64, receiveTime: Int64, project: String) -> Result<IngestionEvent, LateReject> {
        payload.withUnsafeBytes { decode($0, sequence: sequence, receiveTime: receiveTime, project: project) }
    }
}

/// The JSON types of body fields, per event type (reference §1.4). `null` is allowed wherever
/// Langfuse's schema says nullish, which is every optional field.
enum BodySchema {
    enum Kind {
        case string, timestamp, bool, stringArray, object, number, integer, anyValue
        /// One of these strings.
        case choice([String])
    }

    static let trace: [(String, Kind)] = [
        ("id", .string), ("timestamp", .timestamp), ("name", .string), ("userId", .string), ("sessionId", .string),
        ("release", .string), ("version", .string), ("tags", .stringArray), ("public", .bool), ("environment", .string),
        ("externalId", .string),
    ]

    static let observation: [(String, Kind)] = [
        ("id", .string), ("traceId", .string), ("parentObservationId", .string), ("name", .string), ("version", .string),
        ("statusMessage", .string), ("level", .choice(["DEBUG", "DEFAULT", "WARNING", "ERROR"])),
        ("startTime", .timestamp), ("endTime", .timestamp), ("environment", .string),
    ]

    static let generation: [(String, Kind)] = [
        ("completionStartTime", .timestamp), ("model", .string), ("modelParameters", .object), ("usage", .object),
        ("usageDetails", .object), ("costDetails", .object), ("promptName", .string), ("promptVersion", .integer),
    ]

    static let score: [(String, Kind)] = [
        ("id", .string), ("name", .string), ("traceId", .string), ("observationId", .string), ("sessionId", .string),
        ("datasetRunId", .string), ("configId", .string), ("comment", .string), ("environment", .string),
        ("timestamp", .timestamp), ("queueId", .string), ("executionTraceId", .string),
        ("dataType", .choice(["NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT", "CORRECTION"])),
        ("source", .choice(["API", "EVAL", "ANNOTATION"])),
    ]

    static func problem(in body: JSONObject, for type: EventType) -> LateReject? {
        let fields: [(String, Kind)]
        switch type {
        case .traceCreate: fields = trace
        case .scoreCreate: fields = score
        case .sdkLog: return nil
        case .spanCreate, .spanUpdate, .eventCreate: fields = observation
        case .observationCreate, .observationUpdate:
            fields = observation + generation + [("type", .choice(["GENERATION", "SPAN", "EVENT"]))]
        default: fields = observation + generation
        }
        for (key, kind) in fields {
            guard let value = body[key], !value.isNull else { continue }
            if let message = mismatch(value, kind) {
                return LateReject(message.hasPrefix("must be one of") ? .bodyFieldValue : .bodyFieldType, "body.\(key) \(message)")
            }
        }
        if type.isGenerationLikeEvent, let costs = body["costDetails"]?.objectValue {
            for (key, value) in costs where !value.isNull {
                guard let number = value.numberValue else {
                    return LateReject(.bodyFieldType, "body.costDetails.\(key) must be a number")
                }
                if number.doubleValue < 0 { return LateReject(.bodyFieldValue, "body.costDetails.\(key) must not be negative") }
            }
        }
        if type == .scoreCreate, let problem = scoreValueProblem(body) {
            return problem
        }
        if type.isGenerationLikeEvent {
            let hasName = body["promptName"].map { !$0.isNull } ?? false
            let hasVersion = body["promptVersion"].map { !$0.isNull } ?? false
            if hasName != hasVersion {
                return LateReject(.bodyFieldValue, "body.promptName and body.promptVersion come together or not at all")
            }
        }
        return nil
    }

    /// A score's value against its data type (reference §1.4): Langfuse's worker drops these silently.
    private static func scoreValueProblem(_ body: JSONObject) -> LateReject? {
        guard let value = body["value"], !value.isNull else { return nil }
        guard value.numberValue != nil || value.stringValue != nil else {
            return LateReject(.bodyFieldType, "body.value must be a number or a string, not \(value.kind)")
        }
        switch body["dataType"]?.stringValue {
        case "NUMERIC"?:
            if value.numberValue == nil { return LateReject(.bodyFieldType, "body.value of a NUMERIC score must be a number") }
        case "BOOLEAN"?:
            guard let number = value.numberValue?.doubleValue, number == 0 || number == 1 else {
                return LateReject(.bodyFieldValue, "body.value of a BOOLEAN score must be 0 or 1")
            }
        case "TEXT"?:
            guard let text = value.stringValue, (1...500).contains(text.count) else {
                return LateReject(.bodyFieldValue, "body.value of a TEXT score must be a string of 1 to 500 characters")
            }
        case "CATEGORICAL"?, "CORRECTION"?:
            if value.stringValue == nil { return LateReject(.bodyFieldType, "body.value of a textual score must be a string") }
        default:
            break
        }
        return nil
    }

    private static func mismatch(_ value: JSONValue, _ kind: Kind) -> String? {
        switch kind {
        case .string:
            return value.stringValue == nil ? "must be a string, not \(value.kind)" : nil
        case .timestamp:
            guard let text = value.stringValue else { return "must be an ISO 8601 string, not \(value.kind)" }
            return Timestamp(iso8601: text) == nil ? "is not an ISO 8601 date-time with an offset" : nil
        case .bool:
            return value.boolValue == nil ? "must be true or false, not \(value.kind)" : nil
        case .stringArray:
            guard let array = value.arrayValue else { return "must be an array of strings, not \(value.kind)" }
            return array.allSatisfy({ $0.stringValue != nil }) ? nil : "must hold strings only"
        case .object:
            return value.objectValue == nil ? "must be an object, not \(value.kind)" : nil
        case .number:
            return value.numberValue == nil ? "must be a number, not \(value.kind)" : nil
        case .integer:
            guard let number = value.numberValue else { return "must be an integer, not \(value.kind)" }
            return number.int64Value == nil ? "must be an integer" : nil
        case .anyValue:
            return nil
        case .choice(let allowed):
            guard let text = value.stringValue else { return "must be a string, not \(value.kind)" }
            return allowed.contains(text) ? nil : "must be one of \(allowed.joined(separator: ", ")), not \"\(text.prefix(32))\""
        }
    }
}

extension EventType {
    /// Events whose bodies are Langfuse's CreateGenerationBody (model, usage, cost, prompt).
    var isGenerationLikeEvent: Bool {
        switch self {
        case .generationCreate, .generationUpdate, .agentCreate, .toolCreate, .chainCreate, .retrieverCreate,
             .evaluatorCreate, .embeddingCreate, .guardrailCreate, .observationCreate, .observationUpdate:
            true
        default:
            false
        }
    }
}
