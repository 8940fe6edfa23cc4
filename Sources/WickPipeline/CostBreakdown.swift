public import WickJSON
public import WickModel

/// `wick costs`: trace summaries added up by model, user, day or trace name. Costs are summed in
/// exact decimals; a trace without any cost counts its usage and no cost.
public struct CostBreakdown: Sendable {
    public enum Dimension: String, Sendable, CaseIterable {
        case model, user, day, name
    }

    public struct Row: Sendable, Hashable {
        public var key: String
        public var traces = 0
        public var usage = TraceSummary.ModelUsage()

        public init(key: String) {
            self.key = key
        }
    }

    public let dimension: Dimension
    public private(set) var rows: [String: Row] = [:]
    public private(set) var total = Row(key: "total")

    public init(by dimension: Dimension) {
        self.dimension = dimension
    }

    public mutating func add(_ summary: TraceSummary) {
        var all = TraceSummary.ModelUsage()
        for usage in summary.models.values { all.add(usage) }
        total.traces += 1
        total.usage.add(all)
        switch dimension {
        case .model:
            for (model, usage) in summary.models {
                rows[model, default: Row(key: model)].traces += 1
                rows[model]!.usage.add(usage)
            }
        case .user, .day, .name:
            let key = switch dimension {
            case .user: summary.userId ?? ""
            case .name: summary.name ?? ""
            default: String(summary.start.iso8601.prefix(10))
            }
            rows[key, default: Row(key: key)].traces += 1
            rows[key]!.usage.add(all)
        }
    }

    /// By cost, highest first (then by key); days in date order.
    public var ordered: [Row] {
        if dimension == .day { return rows.values.sorted { $0.key < $1.key } }
        return rows.values.sorted {
            let a = $0.usage.cost ?? .zero
            let b = $1.usage.cost ?? .zero
            return a != b ? b < a : $0.key < $1.key
        }
    }

    public var json: JSONValue {
        func row(_ row: Row) -> JSONValue {
            .object([
                "key": .string(row.key), "traces": .number(JSONNumber(row.traces)),
                "observations": .number(JSONNumber(row.usage.observations)),
                "inputTokens": .number(JSONNumber(Int64(clamping: row.usage.input))),
                "outputTokens": .number(JSONNumber(Int64(clamping: row.usage.output))),
                "totalTokens": .number(JSONNumber(Int64(clamping: row.usage.total))),
                "cost": row.usage.cost.map { .number($0.json) } ?? .null,
            ])
        }
        return .object(["by": .string(dimension.rawValue), "rows": .array(ordered.map(row)), "total": row(total)])
    }
}
