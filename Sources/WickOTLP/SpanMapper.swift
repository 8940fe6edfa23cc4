public import WickJSON
import WickModel

/// OTLP spans to Langfuse ingestion events, as Langfuse's OTel ingestion does (reference §2.3–2.6):
/// one `<type>-create` per span, a full `trace-create` for root spans and spans carrying
/// trace-level attributes, and a shallow one (id, timestamp, environment) the first time an export
/// names a trace otherwise. The events then take the path of every other event: validation, the
/// log, assembly, compaction, replay.
///
/// Event ids are derived from the trace and span ids and a hash of the event's body: an exporter's
/// retry of the same spans is the same events (folded once), while a span sent again with more in
/// it (Wick's `otlp` sink re-sends a trace that grew) is a new event that folds over the old one.
/// Envelope timestamps are the span's start, so a root span's trace event sorts before its
/// children's and keeps the trace's first timestamp.
///
/// Spans from Wick's own `otlp` sink (scope `wick`) carry `wick.*` attributes with what OTel has no
/// place for (original ids, the trace's timestamp); they are read back, and the scope and resource
/// are not added to metadata, so a Wick-to-Wick export folds to the same trace.
public enum SpanMapper: Sendable {
    /// The ingestion events of one export, in order: `{"id","type","timestamp","body"}` objects.
    /// `now` (µs since the epoch) stands in for spans without start or end time.
    public static func events(_ export: OTLPExport, now: Int64) -> [JSONValue] {
        var events: [JSONValue] = []
        map(export, now: now) { event in
            // Only tests and tools want values; the endpoint takes `batch`'s bytes.
            let body = (try? JSONValue.parse(event.body)) ?? .null
            events.append(.object(["id": .string(event.id), "type": .string(event.type), "timestamp": .string(event.timestamp),
                                   "body": body]))
        }
        return events
    }

    /// `events` as a `{"batch":[…]}` body for the ingestion path, written directly: each body is
    /// serialised once, for its id's hash and the batch both.
    public static func batch(_ export: OTLPExport, now: Int64) -> [UInt8] {
        var out: [UInt8] = Array(#"{"batch":["#.utf8)
        var first = true
        map(export, now: now) { event in
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: #"{"id":"#.utf8)
            JSONWriter.writeString(event.id, to: &out)
            out.append(contentsOf: #","type":""#.utf8)
            out.append(contentsOf: event.type.utf8)
            out.append(contentsOf: #"","timestamp":""#.utf8)
            out.append(contentsOf: event.timestamp.utf8)
            out.append(contentsOf: #"","body":"#.utf8)
            out.append(contentsOf: event.body)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    private static func map(_ export: OTLPExport, now: Int64, _ emit: (MappedEvent) -> Void) {
        var tracesSeen = Set<String>()
        for resourceSpans in export.resourceSpans {
            let resource = SpanResource(resourceSpans.resource)
            for scopeSpans in resourceSpans.scopeSpans {
                let scope = SpanScope(scopeSpans.scope)
                for span in scopeSpans.spans {
                    let mapped = MappedSpan(span, scope: scope, resource: resource, now: now)
                    if let trace = mapped.traceEvent(firstInExport: tracesSeen.insert(mapped.traceID).inserted) {
                        emit(trace)
                    }
                    emit(mapped.observationEvent())
                }
            }
        }
    }
}

/// One mapped event: its body already serialised.
private struct MappedEvent {
    var id: String
    var type: String
    var timestamp: String
    var body: [UInt8]
}

/// A resource's attributes, looked up by key and, once, as the `resourceAttributes` metadata.
private struct SpanResource {
    let attributes: SpanAttributes
    let metadata: JSONValue?

    init(_ attributes: [OTLPAttribute]) {
        self.attributes = SpanAttributes(attributes)
        metadata = attributes.isEmpty ? nil : .object(JSONObject(attributes.map { ($0.key, $0.value.parsed) }))
    }
}

/// A scope, and once its `scope` metadata.
private struct SpanScope {
    let scope: OTLPScope
    let metadata: JSONValue

    init(_ scope: OTLPScope) {
        self.scope = scope
        var object: JSONObject = ["name": .string(scope.name)]
        if !scope.version.isEmpty { object["version"] = .string(scope.version) }
        if !scope.attributes.isEmpty {
            object["attributes"] = .object(JSONObject(scope.attributes.map { ($0.key, $0.value.parsed) }))
        }
        metadata = .object(object)
    }
}

/// Keys that make a span carry its trace's attributes (a full trace event, not a shallow one).
private let traceLevelKeys: Set<String> = [
    "langfuse.trace.name", "langfuse.user.id", "user.id", "langfuse.session.id", "session.id", "gen_ai.conversation.id",
    "langfuse.trace.tags", "langfuse.tags", "tag.tags", "langfuse.trace.public", "langfuse.public", "langfuse.trace.input",
    "langfuse.trace.output", "langfuse.trace.metadata", "langfuse.metadata", "ai.telemetry.metadata.userId",
    "ai.telemetry.metadata.sessionId", "ai.telemetry.metadata.tags",
]

private struct MappedSpan {
    let span: OTLPSpan
    let scope: OTLPScope
    let scopeMetadata: JSONValue
    let resourceMetadata: JSONValue?
    let attributes: SpanAttributes
    let resource: SpanAttributes
    /// Input and output, read once for the observation and (a root's) trace.
    let io: SpanIO
    let start: Timestamp
    let end: Timestamp
    let isRoot: Bool
    /// The ids the events use: a Wick export's originals, else OTel's hex.
    let traceID: String
    let observationID: String
    let parentID: String?

    init(_ span: OTLPSpan, scope: SpanScope, resource: SpanResource, now: Int64) {
        self.span = span
        self.scope = scope.scope
        scopeMetadata = scope.metadata
        resourceMetadata = resource.metadata
        self.resource = resource.attributes
        let attributes = SpanAttributes(span.attributes)
        self.attributes = attributes
        io = SpanIO(span, attributes)
        traceID = attributes.string(WickAttributes.traceID) ?? span.traceID
        observationID = attributes.string(WickAttributes.observationID) ?? span.spanID
        parentID = span.parentSpanID.map { attributes.string(WickAttributes.parentObservationID) ?? $0 }
        let fallback = Timestamp(microsecondsSinceEpoch: now) ?? .minimum
        let startNanos = span.startTimeUnixNano ?? span.endTimeUnixNano
        let endNanos = span.endTimeUnixNano ?? span.startTimeUnixNano
        start = startNanos.flatMap { Timestamp(microsecondsSinceEpoch: Int64(clamping: $0 / 1000)) } ?? fallback
        end = endNanos.flatMap { Timestamp(microsecondsSinceEpoch: Int64(clamping: $0 / 1000)) } ?? fallback
        isRoot = span.parentSpanID == nil || attributes["langfuse.internal.as_root"]?.isTrue == true
    }

    private var isLangfuseScope: Bool { scope.name == "langfuse-sdk" || scope.name.hasPrefix("langfuse") }
    private var isWickExport: Bool { scope.name == TraceSpans.scopeName }

    private var carriesTraceAttributes: Bool {
        span.attributes.contains { traceLevelKeys.contains($0.key) || $0.key.hasPrefix("langfuse.trace.metadata.") }
    }

    private func envelope(id: String, type: String, body: JSONObject) -> MappedEvent {
        let bytes = JSONValue.object(body).serialized()
        let hash = Hex.encode(withUnsafeBytes(of: BodyHash.hash(bytes).bigEndian) { Array($0) })
        return MappedEvent(id: "\(id)-\(hash)", type: type, timestamp: start.iso8601, body: bytes)
    }

    private var environment: String? {
        attributes.string("langfuse.environment", "deployment.environment.name", "deployment.environment")
            ?? resource.string("langfuse.environment", "deployment.environment.name", "deployment.environment")
    }

    // MARK: The trace

    func traceEvent(firstInExport: Bool) -> MappedEvent? {
        let id = "otel-\(span.traceID)-\(span.spanID)-trace"
        let timestamp = attributes.string(WickAttributes.traceTimestamp).flatMap { Timestamp(iso8601: $0) } ?? start
        var body: JSONObject = ["id": .string(traceID), "timestamp": .string(timestamp.iso8601)]
        if let environment = attributes.string(WickAttributes.traceEnvironment) ?? environment { body["environment"] = .string(environment) }
        guard isRoot || carriesTraceAttributes else {
            // Not a ternary: `nil` there would be JSONValue's null literal, not no event.
            guard firstInExport else { return nil }
            return envelope(id: id, type: "trace-create", body: body)
        }
        if let name = attributes.string("langfuse.trace.name") ?? (isRoot && !isWickExport ? observationName : nil) {
            body["name"] = .string(name)
        }
        if let user = attributes.string("langfuse.user.id", "user.id", "langfuse.observation.metadata.langfuse_user_id",
                                         "langfuse.trace.metadata.langfuse_user_id", "ai.telemetry.metadata.userId") {
            body["userId"] = .string(user)
        }
        if let session = attributes.string("langfuse.session.id", "session.id", "gen_ai.conversation.id",
                                            "langfuse.observation.metadata.langfuse_session_id",
                                            "langfuse.trace.metadata.langfuse_session_id", "ai.telemetry.metadata.sessionId") {
            body["sessionId"] = .string(session)
        }
        if let tags = attributes.first(["langfuse.trace.tags", "langfuse.tags", "langfuse.observation.metadata.langfuse_tags",
                                        "langfuse.trace.metadata.langfuse_tags", "ai.telemetry.metadata.tags", "tag.tags"])?.strings,
           !tags.isEmpty {
            body["tags"] = .array(tags.map(JSONValue.string))
        }
        if let isPublic = attributes.first(["langfuse.trace.public", "langfuse.public"]) { body["public"] = .bool(isPublic.isTrue) }
        if let release = attributes.string("langfuse.release") ?? resource.string("langfuse.release") { body["release"] = .string(release) }
        if let version = isWickExport ? attributes.string(WickAttributes.traceVersion)
            : attributes.string("langfuse.version") ?? resource.string("service.version") {
            body["version"] = .string(version)
        }
        let input = attributes["langfuse.trace.input"]?.parsed ?? (isRoot && !isWickExport ? io.input : nil)
        let output = attributes["langfuse.trace.output"]?.parsed ?? (isRoot && !isWickExport ? io.output : nil)
        if let input { body["input"] = input }
        if let output { body["output"] = output }
        var metadata = traceMetadata
        if isRoot {
            addContext(to: &metadata, consumed: io.consumed.union(["langfuse.trace.input", "langfuse.trace.output"]))
        }
        if !metadata.isEmpty { body["metadata"] = .object(metadata) }
        return envelope(id: id, type: "trace-create", body: body)
    }

    private var traceMetadata: JSONObject {
        var metadata = attributes.first(["langfuse.trace.metadata", "langfuse.metadata"])?.object ?? JSONObject()
        for prefix in ["langfuse.trace.metadata", "langfuse.metadata", "ai.telemetry.metadata"] {
            for (key, value) in attributes.suffixes(of: prefix) { metadata[key] = value.parsed }
        }
        return metadata
    }

    /// What Langfuse adds to metadata besides its own keys: the other span attributes (for spans
    /// of other instrumentations), the resource's attributes and the instrumentation scope.
    private func addContext(to metadata: inout JSONObject, consumed: Set<String>) {
        guard !isWickExport else { return }
        if !isLangfuseScope {
            let rest = span.attributes.filter {
                !$0.key.hasPrefix("langfuse.") && !$0.key.hasPrefix("wick.") && !consumed.contains($0.key)
            }
            if !rest.isEmpty { metadata["attributes"] = .object(JSONObject(rest.map { ($0.key, $0.value.parsed) })) }
        }
        if let resourceMetadata { metadata["resourceAttributes"] = resourceMetadata }
        metadata["scope"] = scopeMetadata
    }

    // MARK: The observation

    private var observationName: String {
        attributes.string("gen_ai.tool.name", "genkit:name", "logfire.msg", "ai.toolCall.name") ?? span.name
    }

    func observationEvent() -> MappedEvent {
        let type = ObservationTypeDecision.type(of: span, attributes: attributes, scope: scope, resource: resource)
        var body: JSONObject = ["id": .string(observationID), "traceId": .string(traceID), "startTime": .string(start.iso8601)]
        if !isWickExport || !span.name.isEmpty { body["name"] = .string(observationName) }
        if let parentID, attributes["langfuse.internal.as_root"]?.isTrue != true {
            body["parentObservationId"] = .string(parentID)
        }
        if type != .event, attributes[WickAttributes.open]?.isTrue != true { body["endTime"] = .string(max(start, end).iso8601) }
        if let environment { body["environment"] = .string(environment) }
        if let version = attributes.string("langfuse.version") ?? resource.string("service.version") { body["version"] = .string(version) }
        let level = attributes.string("langfuse.observation.level")?.uppercased()
        if let level, ["DEBUG", "DEFAULT", "WARNING", "ERROR"].contains(level) {
            body["level"] = .string(level)
        } else if span.statusCode == 2 {
            body["level"] = "ERROR"
        }
        if let message = attributes.string("langfuse.observation.status_message")
            ?? (span.statusMessage.isEmpty || isWickExport ? nil : span.statusMessage) {
            body["statusMessage"] = .string(message)
        }
        if let input = io.input { body["input"] = input }
        if let output = io.output { body["output"] = output }
        if type.isGenerationLike && !isAgentOperation { addGeneration(to: &body) }
        var metadata = attributes["langfuse.observation.metadata"]?.object ?? JSONObject()
        for (key, value) in attributes.suffixes(of: "langfuse.observation.metadata") { metadata[key] = value.parsed }
        addContext(to: &metadata, consumed: io.consumed)
        if !metadata.isEmpty || !isWickExport { body["metadata"] = .object(metadata) }
        return envelope(id: "otel-\(span.traceID)-\(span.spanID)", type: "\(type.rawValue.lowercased())-create", body: body)
    }

    /// AI SDK agent spans carry their children's model and usage; Langfuse leaves them off.
    private var isAgentOperation: Bool {
        attributes.string("gen_ai.operation.name").map { $0 == "invoke_agent" || $0 == "create_agent" } == true
            && attributes.has("ai.operationId")
    }

    private func addGeneration(to body: inout JSONObject) {
        if let model = attributes.string("langfuse.observation.model.name", "gen_ai.response.model", "ai.model.id",
                                         "gen_ai.request.model", "llm.response.model", "llm.model_name", "model") {
            body["model"] = .string(model)
        }
        if let parameters = SpanUsage.modelParameters(attributes) { body["modelParameters"] = .object(parameters) }
        if let usage = SpanUsage.usage(attributes) { body["usageDetails"] = .object(usage) }
        if let cost = SpanUsage.cost(attributes) { body["costDetails"] = .object(cost) }
        if let completion = completionStartTime { body["completionStartTime"] = .string(completion.iso8601) }
        if let prompt = attributes.string("langfuse.observation.prompt.name", "langfuse.prompt.name"),
           let version = attributes.first(["langfuse.observation.prompt.version", "langfuse.prompt.version"])?.integer {
            body["promptName"] = .string(prompt)
            body["promptVersion"] = .number(JSONNumber(version))
        }
    }

    private var completionStartTime: Timestamp? {
        if var text = attributes.string("langfuse.observation.completion_start_time") {
            while text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = String(text.dropFirst().dropLast()) }
            if let time = Timestamp(iso8601: text) { return time }
        }
        if let milliseconds = attributes["ai.response.msToFirstChunk"], case .number(let number) = milliseconds.parsed {
            return Timestamp(microsecondsSinceEpoch: start.microsecondsSinceEpoch + Int64(number.doubleValue * 1000))
        }
        return nil
    }
}
