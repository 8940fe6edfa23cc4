public import WickJSON

extension IngestionEvent {
    /// Decodes a stored event (its payload is the JSON the client sent, which already passed the hot
    /// path's envelope checks), checking every body field Langfuse's schema types. One validating
    /// pass, then one pass over the fields; only the fields a fold reads are built, and prompts and
    /// completions stay text.
    public static func decode(_ payload: UnsafeRawBufferPointer, sequence: UInt64, receiveTime: Int64,
                              project: String, scope: DecodeScope = .full) -> Result<IngestionEvent, LateReject> {
        // The scanner validates the whole event and finds its envelope fields in one pass.
        let envelope: EnvelopeFields
        do {
            guard case .event(let fields) = try JSONScanner().scan(payload) else {
                return .failure(LateReject(.bodyFieldType, "the event is a batch, not one event"))
            }
            envelope = fields
        } catch {
            return .failure(LateReject(.json(error), "\(error)"))
        }
        guard let idField = envelope.id, idField.kind == .string, let typeField = envelope.type, typeField.kind == .string,
              let timestampField = envelope.timestamp, let timestamp = Timestamp(timestampField, in: payload),
              let bodyField = envelope.body, bodyField.kind == .object
        else { return .failure(LateReject(.bodyFieldType, "the envelope does not decode")) }
        guard let type = EventType(typeField, in: payload) else {
            return .failure(LateReject(.unknownType, "unknown event type \"\(typeField.string(in: payload).prefix(64))\""))
        }
        return decode(body: bodyField, of: payload, id: idField.string(in: payload), type: type, timestamp: timestamp,
                      sequence: sequence, receiveTime: receiveTime, project: project, scope: scope)
    }

    /// The rest of ``decode(_:sequence:receiveTime:project:scope:)`` for an event validated already
    /// whose envelope was read (compaction walks each event once): decodes its body.
    static func decode(body bodyField: JSONField, of payload: UnsafeRawBufferPointer, id: String, type: EventType,
                       timestamp: Timestamp, sequence: UInt64, receiveTime: Int64, project: String,
                       scope: DecodeScope = .full) -> Result<IngestionEvent, LateReject> {
        var decoder = BodyDecoder(buffer: payload, type: type, scope: scope)
        do {
            try ValidatedJSON.forEachMember(of: bodyField, in: payload) { (key, value) throws(LateReject) in
                try decoder.member(key, value)
            }
            try decoder.finish()
        } catch {
            return .failure(error)
        }
        return .success(IngestionEvent(id: id, type: type, timestamp: timestamp, body: decoder.body,
                                       sequence: sequence, receiveTime: receiveTime, project: project))
    }

    public static func decode(_ payload: [UInt8], sequence: UInt64, receiveTime: Int64, project: String,
                              scope: DecodeScope = .full) -> Result<IngestionEvent, LateReject> {
        payload.withUnsafeBytes { decode($0, sequence: sequence, receiveTime: receiveTime, project: project, scope: scope) }
    }
}

/// How much of a body a decode builds. Every field is checked against the schema either way, so
/// late rejects are the same; `summary` leaves out the values no trace summary reads (input,
/// output, status message, comment, metadata), for the assembler, which only writes summaries.
/// Observations keep their metadata when `metadata` is set: a price tier that reads metadata needs it.
public enum DecodeScope: Sendable, Equatable {
    case full
    case summary(metadata: Bool = false)
}

extension EventBody {
    /// Decodes a body given as a JSON object, with the same checks as a stored event's.
    public static func decode(_ object: JSONObject, for type: EventType) -> Result<EventBody, LateReject> {
        let bytes = JSONValue.object(object).serialized()
        return bytes.withUnsafeBytes { buffer in
            var decoder = BodyDecoder(buffer: buffer, type: type, scope: .full)
            do throws(LateReject) {
                try ValidatedJSON.forEachMember(of: ValidatedJSON.root(buffer), in: buffer) { (key, value) throws(LateReject) in
                    try decoder.member(key, value)
                }
                try decoder.finish()
            } catch {
                return .failure(error)
            }
            return .success(decoder.body)
        }
    }
}

/// The keys of Langfuse's body schemas (reference §1.4).
enum BodyKey: UInt8, CaseIterable {
    case id, traceId, name, timestamp, environment, metadata, input, output, version
    case userId, sessionId, release, tags, `public`, externalId
    case type, parentObservationId, startTime, endTime, completionStartTime, level, statusMessage
    case model, modelParameters, usage, usageDetails, costDetails, promptName, promptVersion
    case value, dataType, observationId, datasetRunId, comment, configId, source, queueId, executionTraceId

    var name: StaticString {
        switch self {
        case .id: "id"
        case .traceId: "traceId"
        case .name: "name"
        case .timestamp: "timestamp"
        case .environment: "environment"
        case .metadata: "metadata"
        case .input: "input"
        case .output: "output"
        case .version: "version"
        case .userId: "userId"
        case .sessionId: "sessionId"
        case .release: "release"
        case .tags: "tags"
        case .public: "public"
        case .externalId: "externalId"
        case .type: "type"
        case .parentObservationId: "parentObservationId"
        case .startTime: "startTime"
        case .endTime: "endTime"
        case .completionStartTime: "completionStartTime"
        case .level: "level"
        case .statusMessage: "statusMessage"
        case .model: "model"
        case .modelParameters: "modelParameters"
        case .usage: "usage"
        case .usageDetails: "usageDetails"
        case .costDetails: "costDetails"
        case .promptName: "promptName"
        case .promptVersion: "promptVersion"
        case .value: "value"
        case .dataType: "dataType"
        case .observationId: "observationId"
        case .datasetRunId: "datasetRunId"
        case .comment: "comment"
        case .configId: "configId"
        case .source: "source"
        case .queueId: "queueId"
        case .executionTraceId: "executionTraceId"
        }
    }

    var text: String { name.description }

    /// A set of keys, one bit each.
    struct Set: OptionSet {
        let rawValue: UInt64
        init(rawValue: UInt64) { self.rawValue = rawValue }
        init(_ keys: [BodyKey]) { rawValue = keys.reduce(0) { $0 | (1 << UInt64($1.rawValue)) } }
        func has(_ key: BodyKey) -> Bool { rawValue & (1 << UInt64(key.rawValue)) != 0 }
    }

    /// The keys each kind of body has.
    static let trace = Set([
        .id, .timestamp, .name, .userId, .sessionId, .release, .version, .tags, .public, .environment, .externalId,
        .input, .output, .metadata,
    ])
    static let observation = Set([
        .id, .traceId, .parentObservationId, .name, .version, .statusMessage, .level, .startTime, .endTime,
        .environment, .input, .output, .metadata,
    ])
    static let generation = observation.union(Set([
        .completionStartTime, .model, .modelParameters, .usage, .usageDetails, .costDetails, .promptName, .promptVersion,
    ]))
    static let legacyObservation = generation.union(Set([.type])).subtracting(Set([.promptName, .promptVersion]))
    static let score = Set([
        .id, .name, .traceId, .observationId, .sessionId, .datasetRunId, .configId, .comment, .environment, .timestamp,
        .queueId, .executionTraceId, .dataType, .source, .value, .metadata,
    ])

    static func keys(for type: EventType) -> Set {
        switch type {
        case .traceCreate: trace
        case .scoreCreate: score
        case .sdkLog: []
        case .spanCreate, .spanUpdate, .eventCreate: observation
        case .observationCreate, .observationUpdate: legacyObservation
        default: generation
        }
    }

    /// Keys by length, for matching a key's bytes with one or two comparisons.
    static let byLength: [[BodyKey]] = {
        var table = [[BodyKey]](repeating: [], count: 24)
        for key in allCases { table[key.name.utf8CodeUnitCount].append(key) }
        return table
    }()

    init?(_ field: JSONField, in buffer: UnsafeRawBufferPointer) {
        if field.hasEscapes {
            guard let key = BodyKey.allCases.first(where: { field.equals($0.name, in: buffer) }) else { return nil }
            self = key
            return
        }
        let length = field.range.count
        guard length < Self.byLength.count else { return nil }
        for key in Self.byLength[length] where field.equals(key.name, in: buffer) {
            self = key
            return
        }
        return nil
    }
}

/// Fills an `EventBody` from a body's fields, checking each against the schema's type. `null` is
/// allowed wherever Langfuse's schema says nullish, which is every optional field.
struct BodyDecoder {
    let buffer: UnsafeRawBufferPointer
    let type: EventType
    let keys: BodyKey.Set
    let full: Bool
    /// Whether an observation's metadata is kept (always for a full decode).
    let metadata: Bool
    var body = EventBody()

    init(buffer: UnsafeRawBufferPointer, type: EventType, scope: DecodeScope) {
        self.buffer = buffer
        self.type = type
        keys = BodyKey.keys(for: type)
        full = scope == .full
        metadata = full || scope == .summary(metadata: true)
    }

    /// Prompts and completions longer than this stay JSON text until read.
    static let deferAbove = 96

    mutating func member(_ keyField: JSONField, _ field: JSONField) throws(LateReject) {
        guard let key = BodyKey(keyField, in: buffer), keys.has(key) else { return }
        let null = field.isNull
        switch key {
        case .id: body.id = try optionalString(field, key)
        case .traceId: body.traceId = try optionalString(field, key)
        case .name: body.name = try givenString(field, key)
        case .timestamp: body.timestamp = try optionalTimestamp(field, key)
        case .environment: body.environment = try optionalString(field, key)
        case .metadata:
            if metadata { body.metadata = null ? nil : ValidatedJSON.value(field, in: buffer) }
        case .input:
            if full { body.input = null ? nil : ValidatedJSON.value(field, in: buffer, deferringAbove: Self.deferAbove) }
        case .output:
            if full { body.output = null ? nil : ValidatedJSON.value(field, in: buffer, deferringAbove: Self.deferAbove) }
        case .version: body.version = try givenString(field, key)
        case .userId: body.userId = try givenString(field, key)
        case .sessionId: body.sessionId = try givenString(field, key)
        case .release: body.release = try givenString(field, key)
        case .tags: body.tags = try optionalTags(field)
        case .public:
            guard null || field.kind == .true || field.kind == .false else {
                throw LateReject(.bodyFieldType, "body.public must be true or false, not \(field.kind)")
            }
            body.isPublic = null ? nil : field.kind == .true
        case .externalId, .queueId, .executionTraceId: _ = try optionalString(field, key)
        case .type:
            body.observationType = try optionalChoice(field, key, ["GENERATION", "SPAN", "EVENT"]) { $0 }
        case .parentObservationId: body.parentObservationId = try optionalString(field, key)
        case .startTime: body.startTime = try optionalTimestamp(field, key)
        case .endTime: body.endTime = try optionalTimestamp(field, key)
        case .completionStartTime: body.completionStartTime = try optionalTimestamp(field, key)
        case .level:
            if null {
                body.level = .null
            } else {
                body.level = try optionalChoice(field, key, Self.levels, ObservationLevel.init(rawValue:)).map { .value($0) } ?? .null
            }
        case .statusMessage:
            try check(field, .string, key)
            if full { body.statusMessage = try optionalString(field, key) }
        case .model:
            try check(field, .string, key)
            body.model = try givenString(field, key)
        case .modelParameters:
            try check(field, .object, key)
            body.modelParameters = try optionalObject(field, key)
        case .usage: body.usage = try optionalObject(field, key)
        case .usageDetails: body.usageDetails = try optionalObject(field, key)
        case .costDetails:
            body.costDetails = try optionalObject(field, key)
            for (name, value) in body.costDetails ?? [:] where !value.isNull {
                guard let number = value.numberValue else {
                    throw LateReject(.bodyFieldType, "body.costDetails.\(name) must be a number")
                }
                if number.doubleValue < 0 { throw LateReject(.bodyFieldValue, "body.costDetails.\(name) must not be negative") }
            }
        case .promptName: body.promptName = try optionalString(field, key)
        case .promptVersion:
            guard !null else {
                body.promptVersion = nil
                return
            }
            guard field.kind == .number else { throw LateReject(.bodyFieldType, "body.promptVersion must be an integer, not \(field.kind)") }
            guard let version = JSONNumber(String(decoding: field.rawBytes(in: buffer), as: UTF8.self))?.int64Value else {
                throw LateReject(.bodyFieldType, "body.promptVersion must be an integer")
            }
            body.promptVersion = Int(clamping: version)
        case .value:
            guard null || field.kind == .number || field.kind == .string else {
                throw LateReject(.bodyFieldType, "body.value must be a number or a string, not \(field.kind)")
            }
            body.value = null ? nil : ValidatedJSON.value(field, in: buffer)
        case .dataType:
            body.dataType = try optionalChoice(field, key, Self.dataTypes, ScoreDataType.init(rawValue:))
        case .observationId: body.observationId = try optionalString(field, key)
        case .datasetRunId: body.datasetRunId = try optionalString(field, key)
        case .comment:
            try check(field, .string, key)
            if full { body.comment = try givenString(field, key) }
        case .configId: body.configId = try optionalString(field, key)
        case .source: body.source = try optionalChoice(field, key, ["API", "EVAL", "ANNOTATION"]) { $0 }
        }
    }

    /// The rules that span fields.
    func finish() throws(LateReject) {
        if type.isGenerationLikeEvent && (body.promptName == nil) != (body.promptVersion == nil) {
            throw LateReject(.bodyFieldValue, "body.promptName and body.promptVersion come together or not at all")
        }
        if type == .scoreCreate, let value = body.value {
            switch body.dataType {
            case .numeric?:
                if value.numberValue == nil { throw LateReject(.bodyFieldType, "body.value of a NUMERIC score must be a number") }
            case .boolean?:
                guard let number = value.numberValue?.doubleValue, number == 0 || number == 1 else {
                    throw LateReject(.bodyFieldValue, "body.value of a BOOLEAN score must be 0 or 1")
                }
            case .text?:
                guard let text = value.stringValue, (1...500).contains(text.count) else {
                    throw LateReject(.bodyFieldValue, "body.value of a TEXT score must be a string of 1 to 500 characters")
                }
            case .categorical?, .correction?:
                if value.stringValue == nil { throw LateReject(.bodyFieldType, "body.value of a textual score must be a string") }
            case nil:
                break
            }
        }
    }

    // MARK: - Typed fields

    /// Checks a field's kind without building it (null passes).
    private func check(_ field: JSONField, _ kind: JSONKind, _ key: BodyKey) throws(LateReject) {
        guard field.isNull || field.kind == kind else {
            let what = kind == .object ? "an object" : "a string"
            throw LateReject(.bodyFieldType, "body.\(key.text) must be \(what), not \(field.kind)")
        }
    }

    private func optionalString(_ field: JSONField, _ key: BodyKey) throws(LateReject) -> String? {
        if field.isNull { return nil }
        guard field.kind == .string else { throw LateReject(.bodyFieldType, "body.\(key.text) must be a string, not \(field.kind)") }
        return field.string(in: buffer)
    }

    private func givenString(_ field: JSONField, _ key: BodyKey) throws(LateReject) -> Given<String> {
        try optionalString(field, key).map { .value($0) } ?? .null
    }

    private func optionalTimestamp(_ field: JSONField, _ key: BodyKey) throws(LateReject) -> Timestamp? {
        if field.isNull { return nil }
        guard field.kind == .string else {
            throw LateReject(.bodyFieldType, "body.\(key.text) must be an ISO 8601 string, not \(field.kind)")
        }
        guard let time = Timestamp(field, in: buffer) else {
            throw LateReject(.bodyFieldType, "body.\(key.text) is not an ISO 8601 date-time with an offset")
        }
        return time
    }

    private func optionalObject(_ field: JSONField, _ key: BodyKey) throws(LateReject) -> JSONObject? {
        if field.isNull { return nil }
        guard field.kind == .object else { throw LateReject(.bodyFieldType, "body.\(key.text) must be an object, not \(field.kind)") }
        return ValidatedJSON.value(field, in: buffer).objectValue
    }

    static let levels = ObservationLevel.allCases.map(\.rawValue)
    static let dataTypes = ScoreDataType.allCases.map(\.rawValue)

    /// A string that must be one of `allowed`, made into a `Value` by `make` (nil: not allowed).
    private func optionalChoice<Value>(_ field: JSONField, _ key: BodyKey, _ allowed: [String],
                                       _ make: (String) -> Value?) throws(LateReject) -> Value? {
        guard let text = try optionalString(field, key) else { return nil }
        guard allowed.contains(text), let value = make(text) else {
            throw LateReject(.bodyFieldValue, "body.\(key.text) must be one of \(allowed.joined(separator: ", ")), not \"\(text.prefix(32))\"")
        }
        return value
    }

    private func optionalTags(_ field: JSONField) throws(LateReject) -> [String]? {
        if field.isNull { return nil }
        guard field.kind == .array else { throw LateReject(.bodyFieldType, "body.tags must be an array of strings, not \(field.kind)") }
        var tags: [String] = []
        var bad = false
        ValidatedJSON.forEachElement(of: field, in: buffer) { element in
            if element.kind == .string { tags.append(element.string(in: buffer)) } else { bad = true }
        }
        if bad { throw LateReject(.bodyFieldType, "body.tags must hold strings only") }
        return tags
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
