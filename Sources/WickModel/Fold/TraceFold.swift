import WickJSON

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
/// ties (arrival order last), later defined values overwrite earlier ones. Pure and
/// deterministic: any order of the same events folds to the same result.
public enum TraceFold: Sendable {
    /// Observations are priced with `prices` (reference §3.4); without a book only the costs the
    /// clients provided count.
    public static func fold(traceID: String, _ events: [IngestionEvent], prices: PriceBook = .none) -> FoldedTrace {
        // Duplicate event ids: the first to arrive is the one.
        var byArrival = Array(events.indices)
        byArrival.sort { events[$0].sequence < events[$1].sequence }
        var seen = EventIDs(expected: events.count)
        var keys: [OrderKey] = []
        keys.reserveCapacity(events.count)
        for position in byArrival where seen.insert(events[position].id) {
            let event = events[position]
            keys.append(OrderKey(timestamp: event.timestamp.microsecondsSinceEpoch, update: event.type.isUpdate,
                                 sequence: event.sequence, position: position))
        }
        keys.sort()

        var traceEvents: [IngestionEvent] = []
        var observationEvents = Groups()
        var scoreEvents = Groups()
        for key in keys {
            let event = events[key.position]
            switch event.type {
            case .traceCreate:
                traceEvents.append(event)
            case .sdkLog:
                continue
            case .scoreCreate:
                if let id = event.body.id { scoreEvents.add(event, to: id) }
            default:
                if let id = event.body.id { observationEvents.add(event, to: id) }
            }
        }

        var observations = observationEvents.groups.map { foldObservation(id: $0.id, traceID: traceID, $0.events) }
        for index in observations.indices {
            observations[index].cost = CostCalculator.cost(of: observations[index], prices: prices)
        }
        observations.sort { ($0.startTime, $0.id) < ($1.startTime, $1.id) }
        var scores = scoreEvents.groups.compactMap { foldScore(id: $0.id, $0.events) }
        scores.sort { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }
        var trace = foldTrace(id: traceID, traceEvents)
            ?? shallowTrace(id: traceID, firstEvent: keys.first.map { events[$0.position] }, observations: observations)
        if !trace.hasTraceEvent, let first = observations.first { trace.environment = first.environment }
        return FoldedTrace(trace: trace, observations: observations, scores: scores,
                           duplicateEvents: events.count - keys.count, events: keys.count)
    }

    /// Event ids seen so far. Traces hold a few dozen events: comparing with each is cheaper than
    /// hashing, up to a point.
    struct EventIDs {
        private var list: [String] = []
        private var set: Set<String>?

        init(expected: Int) {
            if expected > 48 { set = Set(minimumCapacity: expected) } else { list.reserveCapacity(expected) }
        }

        /// False when `id` was there already.
        mutating func insert(_ id: String) -> Bool {
            if set != nil { return set!.insert(id).inserted }
            if list.contains(id) { return false }
            list.append(id)
            return true
        }
    }

    /// Events grouped by entity id, groups in the order their first event came.
    struct Groups {
        private(set) var groups: [(id: String, events: [IngestionEvent])] = []
        private var index: [String: Int] = [:]

        mutating func add(_ event: IngestionEvent, to id: String) {
            if groups.count < 16 {
                if let group = groups.firstIndex(where: { $0.id == id }) {
                    groups[group].events.append(event)
                    return
                }
            } else if let group = index[id] {
                groups[group].events.append(event)
                return
            }
            groups.append((id, [event]))
            if groups.count == 16 {
                for (position, group) in groups.enumerated() { index[group.id] = position }
            } else if groups.count > 16 {
                index[id] = groups.count - 1
            }
        }
    }

    /// Langfuse's order: envelope timestamp, creates before updates, then arrival.
    struct OrderKey: Comparable {
        var timestamp: Int64
        var update: Bool
        var sequence: UInt64
        var position: Int

        static func < (a: OrderKey, b: OrderKey) -> Bool {
            if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
            if a.update != b.update { return !a.update }
            return a.sequence < b.sequence
        }
    }

    // MARK: - Traces

    static func foldTrace(id: String, _ events: [IngestionEvent]) -> Trace? {
        guard let first = events.first else { return nil }
        var trace = Trace(id: id, timestamp: first.body.timestamp ?? first.timestamp)
        trace.environment = MergeRules.normaliseEnvironment(first.body.environment)
        trace.hasTraceEvent = true
        for event in events { apply(event.body, to: &trace) }
        trace.lastEventTime = events[events.count - 1].timestamp
        return trace
    }

    static func apply(_ body: borrowing EventBody, to trace: inout Trace) {
        // Explicit null clears these; absent keys leave them.
        if body.name.isGiven { trace.name = body.name.value }
        if body.userId.isGiven { trace.userId = body.userId.value }
        if body.sessionId.isGiven { trace.sessionId = body.sessionId.value }
        if body.release.isGiven { trace.release = body.release.value }
        if body.version.isGiven { trace.version = body.version.value }
        if let value = body.input, MergeRules.isTruthy(value) { trace.input = value }
        if let value = body.output, MergeRules.isTruthy(value) { trace.output = value }
        if let value = body.metadata { MergeRules.mergeMetadata(&trace.metadata, value) }
        if let tags = body.tags { trace.tags = MergeRules.unionTags(trace.tags, tags) }
        // Langfuse quirk, kept for compatibility: every trace-create sets `public`, false unless given.
        trace.isPublic = body.isPublic ?? false
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
            ?? first.body.observationType.flatMap { ObservationType(rawValue: $0) } ?? .span
        var observation = Observation(id: id, traceId: first.body.traceId ?? traceID, type: type,
                                      startTime: first.body.startTime ?? first.timestamp)
        observation.environment = MergeRules.normaliseEnvironment(first.body.environment)
        var usage = UsageState()
        for event in events { apply(event.body, to: &observation, usage: &usage) }
        observation.lastEventTime = events[events.count - 1].timestamp
        let providedUsage = usage.usage
        let providedCosts = usage.costs
        if let usage = providedUsage {
            observation.usageDetails = usage.usage
            observation.usageUnit = usage.unit
            if observation.usageDetails["total"] == nil {
                observation.usageDetails["total"] = UsageCount.total(of: observation.usageDetails.values)
            }
        }
        observation.providedCostDetails = providedCosts
        // An end before the start is clamped to the start.
        if let end = observation.endTime, end < observation.startTime { observation.endTime = observation.startTime }
        return observation
    }

    struct UsageState {
        var usage: ProvidedUsage?
        var costs: [String: JSONNumber] = [:]
    }

    static func apply(_ body: borrowing EventBody, to observation: inout Observation, usage: inout UsageState) {
        // Null clears name, model and level; for the rest null means "not given".
        if body.name.isGiven { observation.name = body.name.value }
        if body.model.isGiven { observation.model = body.model.value }
        if body.level.isGiven { observation.level = body.level.value ?? .default }
        if let value = body.statusMessage { observation.statusMessage = value }
        if let value = body.parentObservationId { observation.parentObservationId = value }
        if let value = body.version.value { observation.version = value }
        if let value = body.endTime { observation.endTime = value }
        if let value = body.completionStartTime { observation.completionStartTime = value }
        if let value = body.modelParameters, !value.isEmpty { observation.modelParameters = .object(value) }
        if let value = body.input, MergeRules.isTruthy(value) { observation.input = value }
        if let value = body.output, MergeRules.isTruthy(value) { observation.output = value }
        if let value = body.metadata { MergeRules.mergeMetadata(&observation.metadata, value) }
        if let name = body.promptName, let version = body.promptVersion {
            observation.promptName = name
            observation.promptVersion = version
        }
        // A non-empty usage or cost map replaces the one before; an empty one never erases it.
        guard body.usage != nil || body.usageDetails != nil || body.costDetails != nil else { return }
        let provided = ProvidedUsage.from(usage: body.usage, usageDetails: body.usageDetails, costDetails: body.costDetails)
        if !provided.usage.isEmpty { usage.usage = provided }
        if !provided.costs.isEmpty { usage.costs = provided.costs }
    }

    // MARK: - Scores

    static func foldScore(id: String, _ events: [IngestionEvent]) -> Score? {
        let first = events[0]
        var score = Score(id: id, timestamp: first.body.timestamp ?? first.timestamp, name: "", dataType: .numeric, value: 0)
        score.traceId = first.body.traceId
        score.environment = MergeRules.normaliseEnvironment(first.body.environment)
        for event in events {
            let body = event.body
            if let name = body.name.value { score.name = name }
            if let value = body.value {
                let dataType = body.dataType ?? (value.numberValue != nil ? .numeric : .categorical)
                score.dataType = dataType
                switch dataType {
                case .numeric:
                    score.value = value.numberValue?.doubleValue ?? 0
                    score.stringValue = nil
                case .boolean:
                    score.value = value.numberValue?.doubleValue ?? 0
                    score.stringValue = score.value == 1 ? "True" : "False"
                case .categorical, .text, .correction:
                    score.value = dataType == .categorical ? body.categoryValue ?? 0 : 0
                    score.stringValue = value.stringValue
                }
                if dataType == .correction { score.name = "output" }
            }
            if score.traceId == nil, let trace = body.traceId { score.traceId = trace }
            if let value = body.observationId { score.observationId = value }
            if let value = body.sessionId.value { score.sessionId = value }
            if let value = body.datasetRunId { score.datasetRunId = value }
            if body.comment.isGiven { score.comment = body.comment.value }
            if let value = body.configId { score.configId = value }
            if let value = body.source { score.source = value }
            if let value = body.metadata { MergeRules.mergeMetadata(&score.metadata, value) }
        }
        score.lastEventTime = events[events.count - 1].timestamp
        return score
    }
}
