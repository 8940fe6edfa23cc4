public import WickJSON

/// Everything one trace's events fold to.
public struct FoldedTrace: Sendable, Hashable {
    public var trace: Trace
    /// By start time, then id.
    public var observations: [Observation]
    /// By timestamp, then id.
    public var scores: [Score]
    /// Events whose envelope id was seen before (at-least-once delivery): folded once.
    public var duplicateEvents: Int
    public var events: Int
}

/// Folds the events of one trace by Langfuse's rules (reference §1.8): per entity (the trace, each
/// observation, each score), events in envelope-timestamp order with creates before updates on
/// ties (arrival order last), later defined values overwriting earlier ones. Pure and
/// deterministic: any order of the same events folds to the same result.
public enum TraceFold: Sendable {
    public static func fold(traceID: String, _ input: [IngestionEvent]) -> FoldedTrace {
        // Duplicate event ids: the first to arrive is the one.
        var seen = Set<String>()
        var events: [IngestionEvent] = []
        events.reserveCapacity(input.count)
        for event in input.sorted(by: { $0.sequence < $1.sequence }) where seen.insert(event.id).inserted {
            events.append(event)
        }
        events.sort(by: order)

        var traceEvents: [IngestionEvent] = []
        var observationEvents: [String: [IngestionEvent]] = [:]
        var scoreEvents: [String: [IngestionEvent]] = [:]
        for event in events {
            switch event.type {
            case .traceCreate: traceEvents.append(event)
            case .scoreCreate:
                if let id = event.entityID { scoreEvents[id, default: []].append(event) }
            case .sdkLog: continue
            default:
                if let id = event.entityID { observationEvents[id, default: []].append(event) }
            }
        }

        let observations = observationEvents.map { foldObservation(id: $0.key, traceID: traceID, $0.value) }
            .sorted { ($0.startTime, $0.id) < ($1.startTime, $1.id) }
        let scores = scoreEvents.compactMap { foldScore(id: $0.key, $0.value) }
            .sorted { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }
        var trace = foldTrace(id: traceID, traceEvents)
            ?? shallowTrace(id: traceID, firstEvent: events.first, observations: observations)
        if !trace.hasTraceEvent, let first = observations.first { trace.environment = first.environment }
        return FoldedTrace(trace: trace, observations: observations, scores: scores,
                           duplicateEvents: input.count - events.count, events: events.count)
    }

    /// Envelope timestamp, creates before updates, then arrival.
    static func order(_ a: IngestionEvent, _ b: IngestionEvent) -> Bool {
        if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
        if a.type.isUpdate != b.type.isUpdate { return !a.type.isUpdate }
        return a.sequence < b.sequence
    }

    // MARK: - Traces

    static func foldTrace(id: String, _ events: [IngestionEvent]) -> Trace? {
        guard let first = events.first else { return nil }
        var trace = Trace(id: id, timestamp: timestamp(first.body["timestamp"]) ?? first.timestamp)
        trace.environment = MergeRules.normaliseEnvironment(first.body["environment"]?.stringValue)
        trace.hasTraceEvent = true
        for event in events {
            let body = event.body
            // Explicit null clears these; absent keys leave them.
            if let value = body["name"] { trace.name = value.stringValue }
            if let value = body["userId"] { trace.userId = value.stringValue }
            if let value = body["sessionId"] { trace.sessionId = value.stringValue }
            if let value = body["release"] { trace.release = value.stringValue }
            if let value = body["version"] { trace.version = value.stringValue }
            if let value = body["input"], MergeRules.isTruthy(value) { trace.input = value }
            if let value = body["output"], MergeRules.isTruthy(value) { trace.output = value }
            if let value = body["metadata"] { MergeRules.mergeMetadata(&trace.metadata, value) }
            if let tags = body["tags"]?.arrayValue { trace.tags = MergeRules.unionTags(trace.tags, tags.compactMap(\.stringValue)) }
            // Langfuse quirk, kept for compatibility: every trace-create sets `public`, false unless given.
            trace.isPublic = body["public"]?.boolValue ?? false
        }
        return trace
    }

    /// A trace no `trace-create` named: it exists because its observations or scores do.
    static func shallowTrace(id: String, firstEvent: IngestionEvent?, observations: [Observation]) -> Trace {
        let start = observations.map(\.startTime).min() ?? firstEvent?.timestamp ?? Timestamp.minimum
        return Trace(id: id, timestamp: start)
    }

    // MARK: - Observations

    static func foldObservation(id: String, traceID: String, _ events: [IngestionEvent]) -> Observation {
        let first = events[0]
        let type = ObservationType.of(first.type)
            ?? first.body["type"]?.stringValue.flatMap { ObservationType(rawValue: $0) } ?? .span
        var observation = Observation(id: id, traceId: first.body["traceId"]?.stringValue ?? traceID, type: type,
                                      startTime: timestamp(first.body["startTime"]) ?? first.timestamp)
        observation.environment = MergeRules.normaliseEnvironment(first.body["environment"]?.stringValue)
        var providedUsage: ProvidedUsage? = nil
        var providedCosts: [String: JSONNumber] = [:]
        for event in events {
            let body = event.body
            // Null clears name, model and level; for the rest null means "not given".
            if let value = body["name"] { observation.name = value.stringValue }
            if let value = body["model"] { observation.model = value.stringValue }
            if let value = body["level"] {
                observation.level = value.stringValue.flatMap { ObservationLevel(rawValue: $0) } ?? .default
            }
            if let value = body["statusMessage"]?.stringValue { observation.statusMessage = value }
            if let value = body["parentObservationId"]?.stringValue { observation.parentObservationId = value }
            if let value = body["version"]?.stringValue { observation.version = value }
            if let value = timestamp(body["endTime"]) { observation.endTime = value }
            if let value = timestamp(body["completionStartTime"]) { observation.completionStartTime = value }
            if let value = body["modelParameters"], let object = value.objectValue, !object.isEmpty {
                observation.modelParameters = value
            }
            if let value = body["input"], MergeRules.isTruthy(value) { observation.input = value }
            if let value = body["output"], MergeRules.isTruthy(value) { observation.output = value }
            if let value = body["metadata"] { MergeRules.mergeMetadata(&observation.metadata, value) }
            if let name = body["promptName"]?.stringValue, let version = body["promptVersion"]?.numberValue?.int64Value {
                observation.promptName = name
                observation.promptVersion = Int(version)
            }
            // A non-empty usage or cost map replaces the one before; an empty one never erases it.
            let provided = ProvidedUsage.from(body)
            if !provided.usage.isEmpty {
                providedUsage = provided
            }
            if !provided.costs.isEmpty { providedCosts = provided.costs }
        }
        if let usage = providedUsage {
            observation.usageDetails = usage.usage
            observation.usageUnit = usage.unit
            if observation.usageDetails["total"] == nil {
                observation.usageDetails["total"] = observation.usageDetails.values.reduce(0, +)
            }
        }
        observation.providedCostDetails = providedCosts
        // An end before the start is clamped to the start.
        if let end = observation.endTime, end < observation.startTime { observation.endTime = observation.startTime }
        return observation
    }

    // MARK: - Scores

    static func foldScore(id: String, _ events: [IngestionEvent]) -> Score? {
        let first = events[0]
        var score: Score? = nil
        for event in events {
            let body = event.body
            if score == nil {
                var created = Score(id: id, timestamp: timestamp(first.body["timestamp"]) ?? first.timestamp, name: "",
                                    dataType: .numeric, value: 0)
                created.traceId = body["traceId"]?.stringValue
                created.environment = MergeRules.normaliseEnvironment(body["environment"]?.stringValue)
                score = created
            }
            guard var current = score else { continue }
            if let name = body["name"]?.stringValue { current.name = name }
            if let value = body["value"] {
                let dataType = body["dataType"]?.stringValue.flatMap { ScoreDataType(rawValue: $0) }
                    ?? (value.numberValue != nil ? .numeric : .categorical)
                current.dataType = dataType
                switch dataType {
                case .numeric:
                    current.value = value.numberValue?.doubleValue ?? 0
                    current.stringValue = nil
                case .boolean:
                    current.value = value.numberValue?.doubleValue ?? 0
                    current.stringValue = current.value == 1 ? "True" : "False"
                case .categorical, .text, .correction:
                    current.value = 0
                    current.stringValue = value.stringValue
                }
                if dataType == .correction { current.name = "output" }
            }
            if current.traceId == nil, let trace = body["traceId"]?.stringValue { current.traceId = trace }
            if let value = body["observationId"]?.stringValue { current.observationId = value }
            if let value = body["sessionId"]?.stringValue { current.sessionId = value }
            if let value = body["datasetRunId"]?.stringValue { current.datasetRunId = value }
            if let value = body["comment"] { current.comment = value.stringValue }
            if let value = body["configId"]?.stringValue { current.configId = value }
            if let value = body["source"]?.stringValue { current.source = value }
            if let value = body["metadata"] { MergeRules.mergeMetadata(&current.metadata, value) }
            score = current
        }
        return score
    }

    static func timestamp(_ value: JSONValue?) -> Timestamp? {
        value?.stringValue.flatMap { Timestamp(iso8601: $0) }
    }
}
