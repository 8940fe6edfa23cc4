public import WickJSON

/// A compacted trace (docs/format.md §7): one JSON document holding everything a trace's events
/// folded to, written by compaction in place of those events.
///
///     {"wick":1,"traceId":…,"events":N,"duplicates":D,"firstReceived":µs,"lastReceived":µs,
///      "totalCost":…,"usage":{…},"costs":{"<observation id>":{"input":…,"total":…},…},
///      "batch":[<one create event per entity>]}
///
/// The `batch` holds one Langfuse create event per entity — the trace, each observation, each
/// score — carrying every folded field, with the envelope timestamp of the last event folded into
/// that entity. Folding a document's batch gives back the same trace; folding it together with
/// events that came later applies them in Langfuse's order around it. The costs and totals are
/// those computed when the document was written (a fold prices again with the prices of its time).
public enum CompactedTrace: Sendable {
    public static let version = 1

    /// The document for one folded trace.
    public static func document(_ folded: FoldedTrace, receivedFirst: Int64, receivedLast: Int64) -> [UInt8] {
        var writer = DocumentWriter()
        writer.open()
        writer.key("wick"); writer.raw(String(version))
        writer.key("traceId"); writer.string(folded.trace.id)
        writer.key("events"); writer.raw(String(folded.events))
        writer.key("duplicates"); writer.raw(String(folded.duplicateEvents))
        writer.key("firstReceived"); writer.raw(String(receivedFirst))
        writer.key("lastReceived"); writer.raw(String(receivedLast))
        var total: FixedDecimal?
        var usage: [String: UInt64] = [:]
        for observation in folded.observations {
            if let cost = observation.cost?.total { total = (total ?? .zero) + cost }
            for (key, value) in observation.usageDetails { usage[key, default: 0] += value }
        }
        if let total { writer.key("totalCost"); writer.raw(total.json.text) }
        writer.key("usage"); writer.counts(usage)
        writer.key("costs")
        writer.open()
        for observation in folded.observations {
            guard let cost = observation.cost else { continue }
            writer.key(observation.id)
            writer.open()
            for (key, value) in cost.details.sorted(by: { $0.key < $1.key }) { writer.key(key); writer.raw(value.json.text) }
            if let value = cost.total { writer.key("total"); writer.raw(value.json.text) }
            writer.close()
        }
        writer.close()
        writer.key("batch")
        writer.bytes.append(UInt8(ascii: "["))
        var first = true
        func next() {
            if !first { writer.bytes.append(UInt8(ascii: ",")) }
            first = false
        }
        if folded.trace.hasTraceEvent {
            next()
            writer.traceEvent(folded.trace)
        }
        for observation in folded.observations {
            next()
            writer.observationEvent(observation)
        }
        for score in folded.scores {
            next()
            writer.scoreEvent(score)
        }
        writer.bytes.append(UInt8(ascii: "]"))
        writer.close()
        return writer.bytes
    }

    /// What a document holds besides its events.
    public struct Bookkeeping: Sendable, Hashable {
        public var traceID: String
        /// Events folded into it (duplicates not counted) and duplicates seen.
        public var events: Int
        public var duplicates: Int
        public var receivedFirst: Int64
        public var receivedLast: Int64
        public var totalCost: JSONNumber?
    }

    /// The document's events (numbered `sequence`, as the record that holds them), and its bookkeeping.
    public static func decode(_ payload: UnsafeRawBufferPointer, sequence: UInt64, receiveTime: Int64, project: String,
                              scope: DecodeScope = .full) -> Result<([IngestionEvent], Bookkeeping), LateReject> {
        let head: JSONValue
        let elements: [BatchElement]
        do {
            // Values longer than 64 bytes below the top (the batch, the costs) stay text here.
            head = try JSONValue.parse(payload, deferringAbove: 64, fromDepth: 1)
            guard case .batch(let found) = try JSONScanner().scan(payload) else {
                return .failure(LateReject(.bodyFieldType, "a compacted document has no batch"))
            }
            elements = found
        } catch {
            return .failure(LateReject(.json(error), "compacted document: \(error)"))
        }
        guard head["wick"]?.numberValue?.int64Value == Int64(version), let traceID = head["traceId"]?.stringValue,
              let events = head["events"]?.numberValue?.int64Value,
              let first = head["firstReceived"]?.numberValue?.int64Value,
              let last = head["lastReceived"]?.numberValue?.int64Value
        else { return .failure(LateReject(.bodyFieldType, "a compacted document of another version or without its bookkeeping")) }
        var decoded: [IngestionEvent] = []
        decoded.reserveCapacity(elements.count)
        for element in elements {
            guard case .event(let fields) = element else {
                return .failure(LateReject(.bodyFieldType, "a compacted document's batch holds a non-event"))
            }
            switch IngestionEvent.decode(UnsafeRawBufferPointer(rebasing: payload[fields.range]), sequence: sequence,
                                         receiveTime: receiveTime, project: project, scope: scope) {
            case .success(let event): decoded.append(event)
            case .failure(let reject): return .failure(reject)
            }
        }
        let bookkeeping = Bookkeeping(traceID: traceID, events: Int(events),
                                      duplicates: Int(head["duplicates"]?.numberValue?.int64Value ?? 0),
                                      receivedFirst: first, receivedLast: last, totalCost: head["totalCost"]?.numberValue)
        return .success((decoded, bookkeeping))
    }
}

/// Writes a document's JSON straight to bytes.
private struct DocumentWriter {
    var bytes: [UInt8] = []
    private var needsComma = false

    init() {
        bytes.reserveCapacity(2048)
    }

    mutating func open() {
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func close() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func key(_ name: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        JSONWriter.writeString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = true
    }

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }
    mutating func string(_ text: String) { JSONWriter.writeString(text, to: &bytes) }
    mutating func value(_ value: JSONValue) { value.write(to: &bytes) }

    mutating func time(_ time: Timestamp) {
        bytes.append(UInt8(ascii: "\""))
        time.writeISO8601(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func counts(_ counts: [String: UInt64]) {
        open()
        for (key, value) in counts.sorted(by: { $0.key < $1.key }) { self.key(key); raw(String(value)) }
        close()
    }

    mutating func optional(_ name: String, _ text: String?) {
        if let text { key(name); string(text) }
    }

    mutating func optional(_ name: String, _ json: JSONValue?) {
        if let json { key(name); value(json) }
    }

    mutating func metadata(_ metadata: JSONObject) {
        if !metadata.isEmpty { key("metadata"); value(.object(metadata)) }
    }

    /// An event is written body first (key order means nothing in JSON) so that its id can be a
    /// hash of the body: the same entity with the same content always gets the same event id, and
    /// one merged with later events a new one (a receiver deduplicating by event id keeps both).
    private var bodyStart = 0
    private var pending: (type: EventType, timestamp: Timestamp)?

    mutating func openEvent(type: EventType, timestamp: Timestamp) {
        open()
        key("body")
        bodyStart = bytes.count
        pending = (type, timestamp)
        open()
    }

    mutating func closeEvent() {
        close()
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes[bodyStart...] { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let hex = String(hash, radix: 16)
        let (type, timestamp) = pending!
        key("id"); string("wick-" + String(repeating: "0", count: 16 - hex.count) + hex)
        key("type"); raw("\"\(type.wireName)\"")
        key("timestamp"); time(timestamp)
        close()
    }

    mutating func traceEvent(_ trace: Trace) {
        openEvent(type: .traceCreate, timestamp: trace.lastEventTime)
        key("id"); string(trace.id)
        key("timestamp"); time(trace.timestamp)
        optional("name", trace.name)
        optional("userId", trace.userId)
        optional("sessionId", trace.sessionId)
        optional("release", trace.release)
        optional("version", trace.version)
        optional("input", trace.input)
        optional("output", trace.output)
        metadata(trace.metadata)
        if !trace.tags.isEmpty { key("tags"); value(.array(trace.tags.map { .string($0) })) }
        key("public"); raw(trace.isPublic ? "true" : "false")
        key("environment"); string(trace.environment)
        closeEvent()
    }

    mutating func observationEvent(_ observation: Observation) {
        openEvent(type: observation.type.createEvent, timestamp: observation.lastEventTime)
        key("id"); string(observation.id)
        key("traceId"); string(observation.traceId)
        optional("name", observation.name)
        key("startTime"); time(observation.startTime)
        if let end = observation.endTime { key("endTime"); time(end) }
        if let first = observation.completionStartTime { key("completionStartTime"); time(first) }
        optional("model", observation.model)
        optional("modelParameters", observation.modelParameters)
        optional("input", observation.input)
        optional("output", observation.output)
        metadata(observation.metadata)
        key("level"); string(observation.level.rawValue)
        optional("statusMessage", observation.statusMessage)
        optional("parentObservationId", observation.parentObservationId)
        optional("version", observation.version)
        key("environment"); string(observation.environment)
        if let name = observation.promptName, let version = observation.promptVersion {
            key("promptName"); string(name)
            key("promptVersion"); raw(String(version))
        }
        if !observation.usageDetails.isEmpty {
            key("usageDetails"); counts(observation.usageDetails)
            if let unit = observation.usageUnit { key("usage"); open(); key("unit"); string(unit); close() }
        }
        if !observation.providedCostDetails.isEmpty {
            key("costDetails")
            open()
            for (name, number) in observation.providedCostDetails.sorted(by: { $0.key < $1.key }) { key(name); raw(number.text) }
            close()
        }
        closeEvent()
    }

    mutating func scoreEvent(_ score: Score) {
        openEvent(type: .scoreCreate, timestamp: score.lastEventTime)
        key("id"); string(score.id)
        key("timestamp"); time(score.timestamp)
        key("name"); string(score.name)
        key("dataType"); string(score.dataType.rawValue)
        key("value")
        switch score.dataType {
        case .numeric, .boolean: raw(JSONNumber(score.value).map(\.text) ?? "0")
        case .categorical, .text, .correction: string(score.stringValue ?? "")
        }
        optional("traceId", score.traceId)
        optional("observationId", score.observationId)
        optional("sessionId", score.sessionId)
        optional("datasetRunId", score.datasetRunId)
        optional("comment", score.comment)
        optional("configId", score.configId)
        key("source"); string(score.source)
        metadata(score.metadata)
        key("environment"); string(score.environment)
        closeEvent()
    }
}

extension ObservationType {
    /// The create event of this type.
    var createEvent: EventType {
        switch self {
        case .span: .spanCreate
        case .generation: .generationCreate
        case .event: .eventCreate
        case .agent: .agentCreate
        case .tool: .toolCreate
        case .chain: .chainCreate
        case .retriever: .retrieverCreate
        case .evaluator: .evaluatorCreate
        case .embedding: .embeddingCreate
        case .guardrail: .guardrailCreate
        }
    }
}
