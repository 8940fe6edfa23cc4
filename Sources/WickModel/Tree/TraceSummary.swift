public import WickJSON

/// What the assembler keeps per trace, and what `wick traces` lists and filters.
public struct TraceSummary: Sendable, Hashable {
    public var id: String
    public var project: String
    public var name: String?
    public var userId: String?
    public var sessionId: String?
    public var tags: [String]
    public var environment: String
    public var release: String?
    public var version: String?
    /// The trace's timestamp (client time).
    public var start: Timestamp
    /// The latest observation end (or start), or the trace's timestamp.
    public var end: Timestamp
    /// Seconds from the earliest observation start to the latest end, as Langfuse computes it.
    public var latency: Double
    public var observationCounts: [ObservationType: Int]
    public var errors: Int
    public var warnings: Int
    public var usage: [String: UInt64]
    /// USD: the sum of the observations' costs (provided or computed); nil when none has one.
    public var totalCost: JSONNumber?
    public var scores: [ScoreSummary]
    public var events: Int
    /// Receive time of the last event (µs): when the assembler last heard of it.
    public var lastReceived: Int64
    public var hasTraceEvent: Bool
    /// Observations whose parent is missing, self-parents and loops cut.
    public var treeProblems: Int
    /// Usage and cost by model (observations with a model or a cost; "" for a cost without model):
    /// what `wick costs --by model` and the daily metrics add up.
    public var models: [String: ModelUsage]

    public struct ModelUsage: Sendable, Hashable {
        public var observations: Int
        public var input: UInt64
        public var output: UInt64
        public var total: UInt64
        /// USD, exact; nil when none of its observations has a cost.
        public var cost: FixedDecimal?

        public init(observations: Int = 0, input: UInt64 = 0, output: UInt64 = 0, total: UInt64 = 0, cost: FixedDecimal? = nil) {
            self.observations = observations
            self.input = input
            self.output = output
            self.total = total
            self.cost = cost
        }

        public mutating func add(_ other: ModelUsage) {
            observations += other.observations
            input = UsageCount.sum(input, other.input)
            output = UsageCount.sum(output, other.output)
            total = UsageCount.sum(total, other.total)
            if let more = other.cost { cost = (cost ?? .zero) + more }
        }
    }

    public struct ScoreSummary: Sendable, Hashable {
        public var name: String
        public var count: Int
        /// Mean of numeric and boolean values; nil for textual scores.
        public var average: Double?

        public init(name: String, count: Int, average: Double?) {
            self.name = name
            self.count = count
            self.average = average
        }
    }

    public init(_ folded: FoldedTrace, project: String, lastReceived: Int64, tree: TraceTree? = nil) {
        let trace = folded.trace
        id = trace.id
        self.project = project
        name = trace.name
        userId = trace.userId
        sessionId = trace.sessionId
        tags = trace.tags
        environment = trace.environment
        release = trace.release
        version = trace.version
        start = trace.timestamp
        var first: Timestamp?
        var last: Timestamp?
        var counts: [ObservationType: Int] = [:]
        var usage: [String: UInt64] = [:]
        var errors = 0
        var warnings = 0
        var cost: FixedDecimal?
        var models: [String: ModelUsage] = [:]
        let observations = folded.observations
        for index in observations.indices {
            let startTime = observations[index].startTime
            let endTime = observations[index].endTime ?? startTime
            first = min(first ?? startTime, startTime)
            last = max(last ?? endTime, endTime)
            counts[observations[index].type, default: 0] += 1
            switch observations[index].level {
            case .error: errors += 1
            case .warning: warnings += 1
            default: break
            }
            for (key, value) in observations[index].usageDetails { usage[key] = UsageCount.sum(usage[key] ?? 0, value) }
            let observationCost = observations[index].cost?.total
            if let total = observationCost { cost = (cost ?? .zero) + total }
            if observations[index].model != nil || observationCost != nil {
                let details = observations[index].usageDetails
                models[observations[index].model ?? "", default: ModelUsage()].add(ModelUsage(
                    observations: 1, input: details["input"] ?? 0, output: details["output"] ?? 0, total: details["total"] ?? 0,
                    cost: observationCost))
            }
        }
        self.models = models
        end = max(last ?? trace.timestamp, trace.timestamp)
        if let first, let last {
            latency = Double(last.microsecondsSinceEpoch - first.microsecondsSinceEpoch) / 1_000_000
        } else {
            latency = 0
        }
        observationCounts = counts
        self.errors = errors
        self.warnings = warnings
        self.usage = usage
        totalCost = cost.map(\.json)
        var byName: [String: (count: Int, sum: Double, numeric: Bool)] = [:]
        for score in folded.scores {
            let numeric = score.dataType == .numeric || score.dataType == .boolean
            let entry = byName[score.name] ?? (0, 0, numeric)
            byName[score.name] = (entry.count + 1, entry.sum + score.value, entry.numeric && numeric)
        }
        scores = byName.sorted { $0.key < $1.key }.map {
            ScoreSummary(name: $0.key, count: $0.value.count, average: $0.value.numeric ? $0.value.sum / Double($0.value.count) : nil)
        }
        events = folded.events
        self.lastReceived = lastReceived
        hasTraceEvent = trace.hasTraceEvent
        let flags = (tree ?? TraceTree(folded.observations)).nodes.filter { !$0.flags.isEmpty }.count
        treeProblems = flags
    }
}

extension Observation {
    /// Seconds from start to first token (completionStartTime), for generations that report it.
    public var timeToFirstToken: Double? {
        guard let first = completionStartTime else { return nil }
        return Double(first.microsecondsSinceEpoch - startTime.microsecondsSinceEpoch) / 1_000_000
    }

    /// Seconds from start to end, when it has ended.
    public var latency: Double? {
        guard let end = endTime else { return nil }
        return Double(end.microsecondsSinceEpoch - startTime.microsecondsSinceEpoch) / 1_000_000
    }
}
