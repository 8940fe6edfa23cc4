import WickJSON

/// What an observation cost, in USD, and how that was decided (reference §3.4). A class, so that an
/// observation carries one reference, not the whole record, through folding and sorting.
public final class ObservationCost: Sendable, Hashable {
    /// Cost per usage key (`input`, `output`, `input_cached_tokens`, …), rounded to 12 places.
    public let details: [String: FixedDecimal]
    /// The total; nil when the client provided costs that say none (only keys other than input and
    /// output, and no `total`).
    public let total: FixedDecimal?
    /// True when the client provided the costs (they override any computation).
    public let provided: Bool
    /// The price entry the model matched, if any (also recorded when the costs were provided).
    public let entry: PriceEntry?
    /// Which of the entry's tiers gave the prices (computed costs only).
    let tierIndex: Int?

    init(details: [String: FixedDecimal], total: FixedDecimal?, provided: Bool, entry: PriceEntry?, tierIndex: Int?) {
        self.details = details
        self.total = total
        self.provided = provided
        self.entry = entry
        self.tierIndex = tierIndex
    }

    public var modelID: String? { entry?.id }
    public var modelName: String? { entry?.modelName }
    public var tier: PricingTier? { tierIndex.flatMap { entry?.tiers[$0] } }
    public var tierID: String? { tier?.id }
    public var tierName: String? { tier?.name }
    /// The tier's prices, per usage key (computed costs only).
    public var prices: [String: FixedDecimal] { tier?.prices ?? [:] }

    /// Langfuse's legacy aggregates: the sum of the keys containing "input" / "output".
    public var inputCost: FixedDecimal? { sum { $0.contains("input") } }
    public var outputCost: FixedDecimal? { sum { $0.contains("output") } }

    private func sum(_ include: (String) -> Bool) -> FixedDecimal? {
        let parts = details.filter { include($0.key) }
        return parts.isEmpty ? nil : parts.values.reduce(.zero, +)
    }

    public static func == (a: ObservationCost, b: ObservationCost) -> Bool {
        a === b || (a.details == b.details && a.total == b.total && a.provided == b.provided && a.entry === b.entry
            && a.tierIndex == b.tierIndex)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(details)
        hasher.combine(total)
        hasher.combine(modelID)
        hasher.combine(tierIndex)
    }
}

/// Prices observations: the client's costs when it gave any, otherwise the usage × the matched
/// model's prices, by the first tier whose conditions all hold (the default tier last).
public enum CostCalculator: Sendable {
    /// Langfuse keeps costs to 12 decimal places.
    public static let places = 12

    public static func cost(of observation: Observation, prices: PriceBook) -> ObservationCost? {
        cost(of: observation, entry: observation.model.flatMap { prices.match($0) })
    }

    /// ``cost(of:prices:)`` with the price entry the observation's model matched already (nil: none).
    static func cost(of observation: Observation, entry: PriceEntry?) -> ObservationCost? {
        if !observation.providedCostDetails.isEmpty {
            return provided(observation.providedCostDetails, entry: entry)
        }
        guard let entry, !observation.usageDetails.isEmpty, let tierIndex = tierIndex(of: entry, for: observation) else { return nil }
        let tier = entry.tiers[tierIndex]
        var details: [String: FixedDecimal] = [:]
        details.reserveCapacity(observation.usageDetails.count)
        var parts = FixedDecimal.zero
        var total: FixedDecimal?
        for (key, count) in observation.usageDetails {
            guard let price = tier.prices[key], var cost = price.multiplied(byCount: count) else { continue }
            // Prices with at most 12 decimal places give costs that need no rounding.
            if tier.needsRounding { cost = cost.rounded(toPlaces: places) }
            details[key] = cost
            // Keys without a price are not costed: usage under un-priced names costs zero, as in Langfuse.
            // A `total` price prices the total usage on its own; otherwise the total is the sum of the parts.
            if key == "total" { total = cost } else { parts = parts + cost }
        }
        return ObservationCost(details: details, total: total ?? parts, provided: false, entry: entry, tierIndex: tierIndex)
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
        return ObservationCost(details: details, total: total, provided: true, entry: entry, tierIndex: nil)
    }

    /// The first non-default tier (by priority) whose conditions all hold, else the default.
    public static func tier(of entry: PriceEntry, for observation: Observation) -> PricingTier? {
        tierIndex(of: entry, for: observation).map { entry.tiers[$0] }
    }

    static func tierIndex(of entry: PriceEntry, for observation: Observation) -> Int? {
        tierIndex(of: entry) { holds($0, for: observation) }
    }

    /// The first non-default tier whose conditions all hold by `holds`, else the default; what
    /// `holds` throws (a condition it cannot decide) ends the search.
    static func tierIndex<E: Error>(of entry: PriceEntry, holds: (TierCondition) throws(E) -> Bool) throws(E) -> Int? {
        for index in entry.tiers.indices {
            let tier = entry.tiers[index]
            if tier.isDefault { return index }
            var all = true
            for condition in tier.conditions where try !holds(condition) {
                all = false
                break
            }
            if all { return index }
        }
        return nil
    }

    static func holds(_ condition: TierCondition, for observation: Observation) -> Bool {
        switch condition {
        case .usage(_, let pattern, let comparison, let value):
            var sum: UInt64 = 0
            for (key, count) in observation.usageDetails where pattern.matchesPart(key) { sum = UsageCount.sum(sum, count) }
            return comparison.holds(FixedDecimal(saturating: sum), value)
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
