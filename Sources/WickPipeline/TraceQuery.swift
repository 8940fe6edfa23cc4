public import WickJSON
public import WickModel
public import WickStore

/// The filters of `wick traces` and `wick tail --traces` over settled trace summaries.
public struct TraceQuery: Sendable {
    public var project: String?
    public var userId: String?
    public var sessionId: String?
    public var name: String?
    /// The trace must carry all of them.
    public var tags: [String] = []
    public var environment: String?
    /// Trace timestamp range: from inclusive, to exclusive.
    public var from: Timestamp?
    public var to: Timestamp?
    public var minimumLatency: Double?
    public var minimumCost: Double?
    public var withErrors = false

    public enum Order: String, Sendable, CaseIterable {
        case start, latency, cost, events
    }

    public var order: Order = .start
    public var ascending = false
    public var limit = 50

    public init() {}

    public func matches(_ summary: TraceSummary) -> Bool {
        if let project, summary.project != project { return false }
        if let userId, summary.userId != userId { return false }
        if let sessionId, summary.sessionId != sessionId { return false }
        if let name, summary.name != name { return false }
        if !tags.allSatisfy(summary.tags.contains) { return false }
        if let environment, summary.environment != environment { return false }
        if let from, summary.start < from { return false }
        if let to, summary.start >= to { return false }
        if let minimumLatency, summary.latency < minimumLatency { return false }
        if let minimumCost, (summary.totalCost?.doubleValue ?? 0) < minimumCost { return false }
        if withErrors && summary.errors == 0 { return false }
        return true
    }

    /// Runs the query over the summaries in a store: newest first by default, walking the
    /// time-ordered view (and stopping early) when ordering by start time.
    public func run(_ walk: (_ descending: Bool, _ body: ([UInt8], [UInt8], [UInt8]) -> Bool) throws(StorageError) -> Void) throws(StorageError) -> [TraceSummary] {
        var result: [TraceSummary] = []
        let byStart = order == .start
        try walk(byStart ? !ascending : true) { _, _, value in
            guard let parsed = try? JSONValue.parse(value), let summary = TraceSummary(json: parsed) else { return true }
            if let to, summary.start >= to, byStart, !ascending { return true }
            if let from, summary.start < from, byStart, !ascending { return false }
            guard matches(summary) else { return true }
            result.append(summary)
            return !(byStart && result.count >= limit)
        }
        if !byStart {
            func key(_ summary: TraceSummary) -> Double {
                switch order {
                case .start: Double(summary.start.microsecondsSinceEpoch)
                case .latency: summary.latency
                case .cost: summary.totalCost?.doubleValue ?? 0
                case .events: Double(summary.events)
                }
            }
            result.sort { ascending ? key($0) < key($1) : key($0) > key($1) }
            result = Array(result.prefix(limit))
        }
        return result
    }
}
