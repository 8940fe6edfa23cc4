import WickJSON
public import WickModel

/// Folded traces as OTLP spans, for the `otlp` replay sink: one span per observation, with the
/// attributes Langfuse's OTel ingestion reads (reference §2.4, §2.7), so that Langfuse — or a Wick —
/// rebuilds the same trace from them. Trace-level fields ride on the spans without a parent in
/// the trace, as Langfuse's SDKs put them.
///
/// Ids that are not OTel-shaped (UUIDs, arbitrary strings) map to 16/8-byte ids through SHA-256
/// (the same id always maps the same way, so re-sends deduplicate), the original kept in a `wick.*`
/// attribute that a receiving Wick reads back.
public enum TraceSpans: Sendable {
    /// The scope every exported span is under; a receiving Wick recognises it and does not add
    /// the scope and resource to the metadata (they would not round-trip).
    public static let scopeName = "wick"

    public static func export(_ traces: [FoldedTrace], serviceName: String, version: String) -> OTLPExport {
        let spans = traces.flatMap(spans)
        return OTLPExport(resourceSpans: [.init(
            resource: [OTLPAttribute("service.name", .string(serviceName))],
            scopeSpans: [.init(scope: OTLPScope(name: scopeName, version: version), spans: spans)])])
    }

    public static func spans(_ folded: FoldedTrace) -> [OTLPSpan] {
        let trace = folded.trace
        let (traceID, traceMapped) = otelID(trace.id, bytes: 16)
        let present = Set(folded.observations.map(\.id))
        return folded.observations.map { observation in
            var attributes: [OTLPAttribute] = []
            if traceMapped { attributes.append(OTLPAttribute(WickAttributes.traceID, .string(trace.id))) }
            let (spanID, spanMapped) = otelID(observation.id, bytes: 8)
            if spanMapped { attributes.append(OTLPAttribute(WickAttributes.observationID, .string(observation.id))) }
            var parentSpanID: String?
            if let parent = observation.parentObservationId {
                let (parentID, parentMapped) = otelID(parent, bytes: 8)
                parentSpanID = parentID
                if parentMapped { attributes.append(OTLPAttribute(WickAttributes.parentObservationID, .string(parent))) }
            }
            add(observation, to: &attributes)
            // On every span: a receiver's shallow trace events (from spans without trace
            // attributes) must agree with the full ones, whichever it folds first.
            attributes.append(OTLPAttribute(WickAttributes.traceTimestamp, .string(trace.timestamp.iso8601)))
            attributes.append(OTLPAttribute(WickAttributes.traceEnvironment, .string(trace.environment)))
            if observation.parentObservationId.map({ !present.contains($0) }) ?? true {
                add(trace, to: &attributes)
            }
            let start = UInt64(clamping: observation.startTime.microsecondsSinceEpoch) * 1000
            let end = observation.endTime.map { UInt64(clamping: $0.microsecondsSinceEpoch) * 1000 }
            if end == nil, observation.type != .event { attributes.append(OTLPAttribute(WickAttributes.open, .bool(true))) }
            return OTLPSpan(traceID: traceID, spanID: spanID, parentSpanID: parentSpanID, name: observation.name ?? "",
                            kind: 1, startTimeUnixNano: start, endTimeUnixNano: end ?? start, attributes: attributes,
                            statusCode: observation.level == .error ? 2 : 0, statusMessage: observation.statusMessage ?? "")
        }
    }

    /// An id as OTel hex: itself when it is `bytes` bytes of hex already, else the first `bytes`
    /// bytes of its SHA-256 (then `mapped`).
    public static func otelID(_ id: String, bytes: Int) -> (hex: String, mapped: Bool) {
        if id.utf8.count == bytes * 2, let decoded = Hex.decode(id, count: bytes), decoded.contains(where: { $0 != 0 }) {
            return (Hex.encode(decoded), Hex.encode(decoded) != id)
        }
        return (Hex.encode(SHA256.hash(Array(id.utf8)).prefix(bytes)), true)
    }

    private static func json(_ value: JSONValue) -> OTLPValue {
        .string(String(decoding: value.serialized(), as: UTF8.self))
    }

    private static func add(_ observation: Observation, to attributes: inout [OTLPAttribute]) {
        func put(_ key: String, _ value: OTLPValue?) {
            if let value { attributes.append(OTLPAttribute(key, value)) }
        }
        put("langfuse.observation.type", .string(observation.type.rawValue.lowercased()))
        put("langfuse.observation.level", .string(observation.level.rawValue))
        put("langfuse.observation.status_message", observation.statusMessage.map(OTLPValue.string))
        put("langfuse.observation.input", observation.input.map(json))
        put("langfuse.observation.output", observation.output.map(json))
        if !observation.metadata.isEmpty { put("langfuse.observation.metadata", json(.object(observation.metadata))) }
        put("langfuse.observation.model.name", observation.model.map(OTLPValue.string))
        put("langfuse.observation.model.parameters", observation.modelParameters.map(json))
        if !observation.usageDetails.isEmpty {
            let usage = observation.usageDetails.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.number(JSONNumber(Int64(clamping: $0.value)))) }
            put("langfuse.observation.usage_details", json(.object(JSONObject(usage))))
        }
        if !observation.providedCostDetails.isEmpty {
            let costs = observation.providedCostDetails.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.number($0.value)) }
            put("langfuse.observation.cost_details", json(.object(JSONObject(costs))))
        }
        put("langfuse.observation.completion_start_time", observation.completionStartTime.map { json(.string($0.iso8601)) })
        if let prompt = observation.promptName, let version = observation.promptVersion {
            put("langfuse.observation.prompt.name", .string(prompt))
            put("langfuse.observation.prompt.version", .int(Int64(version)))
        }
        put("langfuse.version", observation.version.map(OTLPValue.string))
        put("langfuse.environment", .string(observation.environment))
    }

    private static func add(_ trace: Trace, to attributes: inout [OTLPAttribute]) {
        func put(_ key: String, _ value: OTLPValue?) {
            if let value { attributes.append(OTLPAttribute(key, value)) }
        }
        put("langfuse.trace.name", trace.name.map(OTLPValue.string))
        put("user.id", trace.userId.map(OTLPValue.string))
        put("session.id", trace.sessionId.map(OTLPValue.string))
        if !trace.tags.isEmpty { put("langfuse.trace.tags", .array(trace.tags.map(OTLPValue.string))) }
        if trace.isPublic { put("langfuse.trace.public", .bool(true)) }
        if !trace.metadata.isEmpty { put("langfuse.trace.metadata", json(.object(trace.metadata))) }
        put("langfuse.trace.input", trace.input.map(json))
        put("langfuse.trace.output", trace.output.map(json))
        put("langfuse.release", trace.release.map(OTLPValue.string))
        put(WickAttributes.traceVersion, trace.version.map(OTLPValue.string))
    }
}

/// Attributes Wick adds to the spans it exports and reads back on its OTLP endpoint: what OTel
/// has no place for (ids that are not OTel-shaped, a trace's own timestamp, version and environment,
/// an observation that never ended).
public enum WickAttributes: Sendable {
    public static let traceID = "wick.trace.id"
    public static let observationID = "wick.observation.id"
    public static let parentObservationID = "wick.parent_observation.id"
    public static let traceTimestamp = "wick.trace.timestamp"
    public static let traceVersion = "wick.trace.version"
    public static let traceEnvironment = "wick.trace.environment"
    public static let open = "wick.observation.open"
}
