import WickJSON

/// A compacted trace (docs/format.md §7): one JSON document holding everything a trace's events
/// folded to, written by compaction in place of those events.
///
///     {"wick":1,"traceId":…,"events":N,"duplicates":D,"received":[first µs,last µs],
///      "totalCost":…,"usage":{…},
///      "trace":{…},"observations":[{…},…],"scores":[{…},…]}
///
/// Each entity is the body of a Langfuse create event carrying every folded field (defaults and
/// the observations' own trace id left out), plus Wick's own keys, which start with `@`: `@` the
/// envelope time of the last event folded into it (µs after its own start time or timestamp),
/// `@type` an observation's type, `@cost` its cost as computed when the document was written.
/// Reading a document gives one create event per entity, with that envelope time: folded alone
/// they give back the same trace; folded with events that came later, they apply in Langfuse's
/// order around it. Event ids are derived from the entity's bytes, so the same content always
/// gets the same id (a receiver deduplicating by event id keeps a merged document's new events).
public enum CompactedTrace: Sendable {
    public static let version = 1

    /// The document for one folded trace.
    public static func document(_ folded: FoldedTrace, receivedFirst: Int64, receivedLast: Int64) -> [UInt8] {
        writtenDocument(folded, receivedFirst: receivedFirst, receivedLast: receivedLast).bytes
    }

    /// A document and where the values a compacted frame keeps apart are in it.
    public struct WrittenDocument: Sendable {
        public var bytes: [UInt8]
        /// In order, and the ``DocumentStream`` of each.
        public var runs: [Range<Int>]
        public var runStreams: [UInt8]
    }

    /// ``document(_:receivedFirst:receivedLast:)`` with its runs, for compaction.
    public static func writtenDocument(_ folded: FoldedTrace, receivedFirst: Int64, receivedLast: Int64) -> WrittenDocument {
        var writer = DocumentWriter()
        writer.open()
        writer.key("wick"); writer.raw(String(version))
        writer.key("traceId"); writer.id(folded.trace.id)
        writer.key("events"); writer.raw(String(folded.events))
        if folded.duplicateEvents > 0 { writer.key("duplicates"); writer.raw(String(folded.duplicateEvents)) }
        writer.key("received")
        writer.bytes.append(UInt8(ascii: "["))
        writer.number(receivedFirst)
        writer.bytes.append(UInt8(ascii: ","))
        writer.number(receivedLast)
        writer.bytes.append(UInt8(ascii: "]"))
        var total: FixedDecimal?
        var usage: [String: UInt64] = [:]
        for observation in folded.observations {
            if let cost = observation.cost?.total { total = (total ?? .zero) + cost }
            for (key, value) in observation.usageDetails { usage[key] = UsageCount.sum(usage[key] ?? 0, value) }
        }
        if let total { writer.key("totalCost"); writer.number(total) }
        if !usage.isEmpty { writer.key("usage"); writer.counts(usage) }
        if folded.trace.hasTraceEvent {
            writer.key("trace")
            writer.trace(folded.trace)
        }
        writer.key("observations")
        writer.list(folded.observations) { $0.observation($1) }
        if !folded.scores.isEmpty {
            writer.key("scores")
            writer.list(folded.scores) { $0.score($1) }
        }
        writer.close()
        return WrittenDocument(bytes: writer.bytes, runs: writer.runs, runStreams: writer.runStreams)
    }

    /// What a document holds besides its entities.
    public struct Bookkeeping: Sendable, Hashable {
        public var traceID: String
        /// Events folded into it (duplicates not counted) and duplicates seen.
        public var events: Int
        public var duplicates: Int
        public var receivedFirst: Int64
        public var receivedLast: Int64
    }

    /// The document's create events (numbered `sequence`, as the record that holds them), and its
    /// bookkeeping. A document that does not decode is reported like an event that does not.
    public static func decode(_ payload: UnsafeRawBufferPointer, sequence: UInt64, receiveTime: Int64, project: String,
                              scope: DecodeScope = .full) -> Result<([IngestionEvent], Bookkeeping), LateReject> {
        var reader = DocumentReader(payload: payload, sequence: sequence, receiveTime: receiveTime, project: project, scope: scope)
        if let failure = reader.readAll() { return .failure(failure) }
        guard reader.version == Int64(version), let traceID = reader.traceID, let received = reader.received else {
            return .failure(LateReject(.bodyFieldType, "a compacted document of another version, or without its bookkeeping"))
        }
        return .success((reader.events, Bookkeeping(traceID: traceID, events: reader.eventCount, duplicates: reader.duplicates,
                                                   receivedFirst: received.first, receivedLast: received.last)))
    }
}

extension CompactedTrace {
    /// The document's entities as Langfuse create events, one JSON text each (`wick export`, and a
    /// replay of compacted data): ids derived from each entity's bytes, observations with their trace id.
    public static func createEvents(_ payload: UnsafeRawBufferPointer) -> Result<[[UInt8]], LateReject> {
        var reader = DocumentReader(payload: payload, sequence: 0, receiveTime: 0, project: "", scope: .full)
        reader.writesLines = true
        if let failure = reader.readAll() { return .failure(failure) }
        return .success(reader.lines)
    }
}

/// Reads a document's members: bookkeeping, and each entity as a create event.
private struct DocumentReader {
    let payload: UnsafeRawBufferPointer
    let sequence: UInt64
    let receiveTime: Int64
    let project: String
    let scope: DecodeScope
    var version: Int64?
    var traceID: String?
    var eventCount = 0
    var duplicates = 0
    var received: (first: Int64, last: Int64)?
    var events: [IngestionEvent] = []
    /// When set, each entity is also written out as a Langfuse create event (JSON), for export.
    var writesLines = false
    var lines: [[UInt8]] = []

    init(payload: UnsafeRawBufferPointer, sequence: UInt64, receiveTime: Int64, project: String, scope: DecodeScope) {
        self.payload = payload
        self.sequence = sequence
        self.receiveTime = receiveTime
        self.project = project
        self.scope = scope
    }

    /// Validates the document and reads every member; why it does not decode, or nil.
    mutating func readAll() -> LateReject? {
        do {
            try JSONScanner().validate(payload)
        } catch {
            return LateReject(.json(error), "compacted document: \(error)")
        }
        let root = ValidatedJSON.root(payload)
        guard root.kind == .object else { return LateReject(.bodyFieldType, "a compacted document is not an object") }
        do {
            try ValidatedJSON.forEachMember(of: root, in: payload) { (key, value) throws(LateReject) in try member(key, value) }
        } catch {
            return error
        }
        return nil
    }

    func integer(_ field: JSONField) -> Int64? {
        guard field.kind == .number else { return nil }
        return Int64(String(decoding: field.rawBytes(in: payload), as: UTF8.self))
    }

    mutating func member(_ key: JSONField, _ value: JSONField) throws(LateReject) {
        if key.equals("wick", in: payload) {
            version = integer(value)
        } else if key.equals("traceId", in: payload), value.kind == .string {
            traceID = value.string(in: payload)
        } else if key.equals("events", in: payload) {
            eventCount = Int(integer(value) ?? 0)
        } else if key.equals("duplicates", in: payload) {
            duplicates = Int(integer(value) ?? 0)
        } else if key.equals("received", in: payload), value.kind == .array {
            var times: [Int64] = []
            ValidatedJSON.forEachElement(of: value, in: payload) { if let time = integer($0) { times.append(time) } }
            if times.count == 2 { received = (times[0], times[1]) }
        } else if key.equals("trace", in: payload), value.kind == .object {
            try entity(value, fixed: .traceCreate)
        } else if key.equals("observations", in: payload), value.kind == .array {
            try ValidatedJSON.forEachElement(of: value, in: payload) { (element) throws(LateReject) in try entity(element, fixed: nil) }
        } else if key.equals("scores", in: payload), value.kind == .array {
            try ValidatedJSON.forEachElement(of: value, in: payload) { (element) throws(LateReject) in
                try entity(element, fixed: .scoreCreate)
            }
        }
    }

    /// One entity: its body decoded as any event's, its envelope made from Wick's `@` keys.
    mutating func entity(_ object: JSONField, fixed: EventType?) throws(LateReject) {
        guard object.kind == .object else { throw LateReject(.bodyFieldType, "a compacted entity is not an object") }
        var type = fixed
        var delta: Int64 = 0
        try ValidatedJSON.forEachMember(of: object, in: payload) { (key, value) throws(LateReject) in
            if key.equals("@", in: payload) {
                delta = integer(value) ?? 0
            } else if key.equals("@type", in: payload), value.kind == .string {
                guard let observationType = ObservationType(rawValue: value.string(in: payload)) else {
                    throw LateReject(.unknownType, "unknown observation type in a compacted document")
                }
                type = observationType.createEvent
            }
        }
        guard let type else { throw LateReject(.bodyFieldType, "a compacted observation without its @type") }
        var decoder = BodyDecoder(buffer: payload, type: type, scope: scope)
        try ValidatedJSON.forEachMember(of: object, in: payload) { (key, value) throws(LateReject) in
            try decoder.member(key, value)
        }
        try decoder.finish()
        let body = decoder.body
        guard let base = (type == .traceCreate || type == .scoreCreate) ? body.timestamp : body.startTime,
              let timestamp = Timestamp(microsecondsSinceEpoch: base.microsecondsSinceEpoch + delta)
        else { throw LateReject(.bodyFieldType, "a compacted entity without its time") }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in object.rawBytes(in: payload) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let hex = String(hash, radix: 16)
        let eventID = "wick-" + String(repeating: "0", count: 16 - hex.count) + hex
        events.append(IngestionEvent(id: eventID, type: type, timestamp: timestamp, body: body, sequence: sequence,
                                     receiveTime: receiveTime, project: project))
        if writesLines { lines.append(line(object, id: eventID, type: type, timestamp: timestamp)) }
    }

    /// The entity as a create event: its body without Wick's `@` keys, an observation's trace id
    /// put back.
    func line(_ object: JSONField, id: String, type: EventType, timestamp: Timestamp) -> [UInt8] {
        var out = Array("{\"id\":\"\(id)\",\"type\":\"\(type.wireName)\",\"timestamp\":\"".utf8)
        timestamp.writeISO8601(to: &out)
        out.append(contentsOf: Array("\",\"body\":{".utf8))
        var first = true
        if type != .traceCreate && type != .scoreCreate, let traceID {
            out.append(contentsOf: Array("\"traceId\":".utf8))
            JSONWriter.writeString(traceID, to: &out)
            first = false
        }
        ValidatedJSON.forEachMember(of: object, in: payload) { key, value in
            guard key.rawBytes(in: payload).first != UInt8(ascii: "@") else { return }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: key.rawBytes(in: payload))
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
            if value.kind == .string {
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: value.rawBytes(in: payload))
                out.append(UInt8(ascii: "\""))
            } else {
                out.append(contentsOf: value.rawBytes(in: payload))
            }
        }
        out.append(contentsOf: Array("}}".utf8))
        return out
    }
}

/// The kinds of value a compacted frame keeps apart, each beside its own kind: prompts beside
/// prompts and ids beside ids compress better than the two interleaved (docs/format.md §3). The
/// raw value is the frame's stream number.
public enum DocumentStream: UInt8, Sendable {
    /// Inputs and outputs: prompts, completions, retrieved documents.
    case text = 0
    /// Trace, observation and score ids, and the ids that point at them.
    case ids = 1
    /// Timestamps.
    case times = 2
    /// Usage counts, costs, receive times, envelope-time offsets.
    case numbers = 3
}

/// Writes a document's JSON straight to bytes (the fold's result here; events' bytes in
/// `CompactedTrace.DirectWriter`).
struct DocumentWriter {
    var bytes: [UInt8] = []
    private var needsComma = false
    /// Where the values a compacted frame keeps apart are, in order, and the stream of each.
    var runs: [Range<Int>] = []
    var runStreams: [UInt8] = []

    init() {
        bytes.reserveCapacity(2048)
    }

    /// A writer that starts empty in `buffer`'s storage (a caller writing many documents keeps one).
    init(reusing buffer: [UInt8]) {
        bytes = buffer
        bytes.removeAll(keepingCapacity: true)
    }

    mutating func open() {
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func close() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// A key a client chose (a usage or cost name), escaped as JSON needs. Wick's own keys go
    /// through ``key(_:)``: a literal argument picks this overload when both take the same label.
    mutating func clientKey(_ name: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        JSONWriter.writeString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = true
    }

    /// A key of Wick's own: plain ASCII, nothing to escape.
    mutating func key(_ name: StaticString) {
        // `,"name":` in one append (a document has a few dozen keys, and each append checks the
        // array's uniqueness and capacity).
        let count = name.utf8CodeUnitCount
        let comma = needsComma ? 1 : 0
        withUnsafeTemporaryAllocation(byteCount: count + 4, alignment: 1) { key in
            let base = key.baseAddress!
            base.storeBytes(of: UInt8(ascii: ","), as: UInt8.self)
            base.storeBytes(of: UInt8(ascii: "\""), toByteOffset: comma, as: UInt8.self)
            (base + comma + 1).copyMemory(from: name.utf8Start, byteCount: count)
            base.storeBytes(of: UInt8(ascii: "\""), toByteOffset: comma + 1 + count, as: UInt8.self)
            base.storeBytes(of: UInt8(ascii: ":"), toByteOffset: comma + 2 + count, as: UInt8.self)
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: base, count: count + 3 + comma))
        }
        needsComma = true
    }

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// A value's JSON text as an event wrote it (a string with its quotes and escapes): it was
    /// validated with the event, and decodes to what the event's did.
    mutating func copy(_ field: JSONField, in buffer: UnsafeRawBufferPointer) {
        let range = field.kind == .string ? (field.range.lowerBound - 1)..<(field.range.upperBound + 1) : field.range
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[range]))
    }

    /// ``copy(_:in:)`` for a value that is mostly text (a prompt, a completion), noting where it is.
    mutating func copyText(_ field: JSONField, in buffer: UnsafeRawBufferPointer) {
        noting(.text) { $0.copy(field, in: buffer) }
    }

    /// ``copy(_:in:)`` for an id, noting where it is.
    mutating func copyID(_ field: JSONField, in buffer: UnsafeRawBufferPointer) {
        noting(.ids) { $0.copy(field, in: buffer) }
    }

    /// Writes with `write` and notes that what it wrote goes to `stream`.
    @inline(__always)
    mutating func noting(_ stream: DocumentStream, _ write: (inout DocumentWriter) -> Void) {
        let start = bytes.count
        write(&self)
        runs.append(start..<bytes.count)
        runStreams.append(stream.rawValue)
    }

    /// A string that is an id.
    mutating func id(_ text: String) { noting(.ids) { $0.string(text) } }

    /// An integer kept with the numbers (a receive time, an offset).
    mutating func number(_ value: Int64) { noting(.numbers) { $0.integer(value) } }

    /// A count kept with the numbers.
    mutating func number(_ value: UInt64) { noting(.numbers) { $0.unsigned(value) } }

    /// A cost kept with the numbers.
    mutating func number(_ value: FixedDecimal) { noting(.numbers) { value.write(to: &$0.bytes) } }

    /// An integer, in decimal.
    mutating func integer(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        unsigned(value.magnitude)
    }

    /// An unsigned integer, in decimal.
    mutating func unsigned(_ value: UInt64) {
        var magnitude = value
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { out in
            repeat {
                out[23 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: out[(24 - count)...]))
        }
    }
    mutating func string(_ text: String) { JSONWriter.writeString(text, to: &bytes) }
    mutating func value(_ value: JSONValue) { value.write(to: &bytes) }

    mutating func time(_ time: Timestamp) {
        noting(.times) {
            $0.bytes.append(UInt8(ascii: "\""))
            time.writeISO8601(to: &$0.bytes)
            $0.bytes.append(UInt8(ascii: "\""))
        }
    }

    mutating func counts(_ counts: [String: UInt64]) {
        open()
        for (key, value) in counts.sorted(by: { $0.key < $1.key }) { clientKey(key); number(value) }
        close()
    }

    /// ``counts(_:)`` for a plain usage: the same keys in the same order.
    mutating func counts(_ usage: PlainUsage) {
        open()
        if let count = usage.input { key("input"); number(count) }
        if let count = usage.output { key("output"); number(count) }
        if let count = usage.total { key("total"); number(count) }
        close()
    }

    mutating func optional(_ name: StaticString, _ text: String?) {
        if let text { key(name); string(text) }
    }

    mutating func optional(_ name: StaticString, _ json: JSONValue?) {
        if let json { key(name); value(json) }
    }

    /// ``optional(_:_:)`` for a value that is mostly text (a prompt, a completion), noting where it is.
    mutating func text(_ name: StaticString, _ json: JSONValue?) {
        guard let json else { return }
        key(name)
        noting(.text) { $0.value(json) }
    }

    mutating func metadata(_ metadata: JSONObject) {
        if !metadata.isEmpty { key("metadata"); value(.object(metadata)) }
    }

    mutating func list<T>(_ items: [T], _ write: (inout DocumentWriter, T) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (position, item) in items.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            write(&self, item)
        }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// `@`: the envelope time of the entity's last event, as µs after `base` (left out when 0).
    mutating func lastEvent(_ time: Timestamp, after base: Timestamp) {
        let delta = time.microsecondsSinceEpoch - base.microsecondsSinceEpoch
        if delta != 0 { key("@"); number(delta) }
    }

    mutating func environment(_ name: String) {
        if name != "default" { key("environment"); string(name) }
    }

    mutating func trace(_ trace: Trace) {
        open()
        key("id"); id(trace.id)
        key("timestamp"); time(trace.timestamp)
        lastEvent(trace.lastEventTime, after: trace.timestamp)
        optional("name", trace.name)
        optional("userId", trace.userId)
        optional("sessionId", trace.sessionId)
        optional("release", trace.release)
        optional("version", trace.version)
        text("input", trace.input)
        text("output", trace.output)
        metadata(trace.metadata)
        if !trace.tags.isEmpty { key("tags"); value(.array(trace.tags.map { .string($0) })) }
        if trace.isPublic { key("public"); raw("true") }
        environment(trace.environment)
        close()
    }

    mutating func observation(_ observation: Observation) {
        open()
        key("id"); id(observation.id)
        key("@type"); string(observation.type.rawValue)
        key("startTime"); time(observation.startTime)
        lastEvent(observation.lastEventTime, after: observation.startTime)
        // The trace is the document's, unless the observation named another (it never does when
        // grouped by its trace id; kept for safety).
        optional("name", observation.name)
        if let end = observation.endTime { key("endTime"); time(end) }
        if let first = observation.completionStartTime { key("completionStartTime"); time(first) }
        optional("model", observation.model)
        optional("modelParameters", observation.modelParameters)
        text("input", observation.input)
        text("output", observation.output)
        metadata(observation.metadata)
        if observation.level != .default { key("level"); string(observation.level.rawValue) }
        optional("statusMessage", observation.statusMessage)
        if let parent = observation.parentObservationId { key("parentObservationId"); id(parent) }
        optional("version", observation.version)
        environment(observation.environment)
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
            for (name, number) in observation.providedCostDetails.sorted(by: { $0.key < $1.key }) { clientKey(name); raw(number.text) }
            close()
        }
        if let cost = observation.cost {
            key("@cost")
            open()
            for (name, value) in cost.details.sorted(by: { $0.key < $1.key }) { clientKey(name); number(value) }
            if let value = cost.total { key("total"); number(value) }
            close()
        }
        close()
    }

    mutating func score(_ score: Score) {
        open()
        key("id"); id(score.id)
        key("timestamp"); time(score.timestamp)
        lastEvent(score.lastEventTime, after: score.timestamp)
        key("name"); string(score.name)
        key("dataType"); string(score.dataType.rawValue)
        key("value")
        switch score.dataType {
        case .numeric, .boolean: raw(JSONNumber(score.value).map(\.text) ?? "0")
        case .categorical, .text, .correction: string(score.stringValue ?? "")
        }
        if let trace = score.traceId { key("traceId"); id(trace) }
        if let observation = score.observationId { key("observationId"); id(observation) }
        optional("sessionId", score.sessionId)
        optional("datasetRunId", score.datasetRunId)
        optional("comment", score.comment)
        optional("configId", score.configId)
        if score.source != "API" { key("source"); string(score.source) }
        metadata(score.metadata)
        environment(score.environment)
        close()
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
