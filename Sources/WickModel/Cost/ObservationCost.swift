public import WickJSON

/// What an observation cost, in USD, and how that was decided (reference §3.4).
public struct ObservationCost: Sendable, Hashable {
    /// Cost per usage key (`input`, `output`, `input_cached_tokens`, …), rounded to 12 places.
    public var details: [String: FixedDecimal]
    /// The total; nil when the client provided costs that say none (only keys other than input and
    /// output, and no `total`).
    public var total: FixedDecimal?
    /// True when the client provided the costs (they override any computation).
    public var provided: Bool
    /// The price entry the model matched, if any (also recorded when the costs were provided).
    public var modelID: String?
    public var modelName: String?
    /// The tier whose prices were used (computed costs only).
    public var tierID: String?
    public var tierName: String?
    /// The prices applied, per usage key.
    public var prices: [String: FixedDecimal]

    /// Langfuse's legacy aggregates: the sum of the keys containing "input" / "output".
    public var inputCost: FixedDecimal? { sum { $0.contains("input") } }
    public var outputCost: FixedDecimal? { sum { $0.contains("output") } }

    private func sum(_ include: (String) -> Bool) -> FixedDecimal? {
        let parts = details.filter { include($0.key) }
        return parts.isEmpty ? nil : parts.values.reduce(.zero, +)
    }
}

/// Prices observations: the client's costs when it gave any, otherwise the usage × the matched
/// model's prices, by the first tier whose conditions all hold (the default tier last).
public enum CostCalculator: Sendable {
    /// Langfuse keeps costs to 12 decimal places.
    public static let places = 12

    public static func cost(of observation: Observation, prices: PriceBook) -> ObservationCost? {
        let entry = observation.model.flatMap { prices.match($0) }
        if !observation.providedCostDetails.isEmpty {
            return provided(observation.providedCostDetails, entry: entry)
        }
        guard let entry, !observation.usageDetails.isEmpty, let tier = tier(of: entry, for: observation) else { return nil }
        var details: [String: FixedDecimal] = [:]
        var applied: [String: FixedDecimal] = [:]
        for (key, count) in observation.usageDetails {
            guard let price = tier.prices[key] else { continue }
            applied[key] = price
            if let cost = FixedDecimal(count).multiplied(by: price) { details[key] = cost.rounded(toPlaces: places) }
        }
        // Keys without a price are not costed: usage under un-priced names costs zero, as in Langfuse.
        // A `total` price prices the total usage on its own; otherwise the total is the sum of the parts.
        let total = details["total"] ?? details.values.reduce(.zero, +)
        return ObservationCost(details: details, total: total, provided: false, modelID: entry.id, modelName: entry.modelName,
                               tierID: tier.id, tierName: tier.name, prices: applied)
    }

    static func provided(_ given: [String: JSONNumber], entry: PriceEntry?) -> ObservationCost? {
        var details: [String: FixedDecimal] = [:]
        for (key, number) in given {
            if let value = FixedDecimal(number) { details[key] = value.rounded(toPlaces: places) }
        }
        guard !details.isEmpty else { return nil }
        let total: FixedDecimal?
        if let given = details["total"] {
            total = given
        } else if Set(details.keys).isSubset(of: ["input", "output"]) {
            total = details.values.reduce(.zero, +)
        } else {
            total = nil
        }
        return ObservationCost(details: details, total: total, provided: true, modelID: entry?.id, modelName: entry?.modelName,
                               tierID: nil, tierName: nil, prices: [:])
    }

    /// The first non-default tier (by priority) whose conditions all hold, else the default.
    public static func tier(of entry: PriceEntry, for observation: Observation) -> PricingTier? {
        entry.tiers.first { tier in
            tier.isDefault || tier.conditions.allSatisfy { holds($0, for: observation) }
        }
    }

    static func holds(_ condition: TierCondition, for observation: Observation) -> Bool {
        switch condition {
        case .usage(_, let pattern, let comparison, let value):
            var sum = FixedDecimal.zero
            for (key, count) in observation.usageDetails where pattern.matchesPart(key) { sum = sum + FixedDecimal(count) }
            switch comparison {
            case .gt: return sum > value
            case .gte: return sum >= value
            case .lt: return sum < value
            case .lte: return sum <= value
            case .eq: return sum == value
            case .neq: return sum != value
            }
        case .attribute(let source, let key, let values):
            let container: JSONValue? = switch source {
            case .modelParameters: observation.modelParameters
            case .metadata: .object(observation.metadata)
            }
            guard let value = container?[key] else { return false }
            let text: String? = switch value.resolved {
            case .string(let string): string
            case .number(let number): number.text
            case .bool(let flag): flag ? "true" : "false"
            default: nil
            }
            return text.map(values.contains) ?? false
        }
    }
}
