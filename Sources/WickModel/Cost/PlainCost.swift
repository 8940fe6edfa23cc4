/// What an observation with a ``PlainUsage`` cost: ``ObservationCost`` for computed costs, without
/// its dictionary (compaction prices most observations this way).
struct PlainCost: Equatable {
    var input: FixedDecimal?
    var output: FixedDecimal?
    /// The cost of the `total` key, when the tier prices it.
    var totalKey: FixedDecimal?
    /// The total: the `total` key's cost when priced, else the sum of the others.
    var total: FixedDecimal

    /// The costs per key, as ``ObservationCost/details`` holds them.
    var details: [String: FixedDecimal] {
        var details: [String: FixedDecimal] = [:]
        if let input { details["input"] = input }
        if let output { details["output"] = output }
        if let totalKey { details["total"] = totalKey }
        return details
    }
}

/// A tier condition that cannot be decided without building the values it reads.
struct UndecidedCondition: Error {}

extension CostCalculator {
    /// ``cost(of:entry:)`` for an observation whose usage is `usage` and whose client gave no costs,
    /// priced by `tier`: the same costs. Nil for an empty usage.
    static func cost(of usage: PlainUsage, tier: PricingTier) -> PlainCost? {
        guard !usage.isEmpty else { return nil }
        var cost = PlainCost(total: .zero)
        func price(_ count: UInt64?, _ price: FixedDecimal?) -> FixedDecimal? {
            guard let count, let price, var cost = price.multiplied(byCount: count) else { return nil }
            if tier.needsRounding { cost = cost.rounded(toPlaces: places) }
            return cost
        }
        cost.input = price(usage.input, tier.plainPrices.input)
        cost.output = price(usage.output, tier.plainPrices.output)
        cost.totalKey = price(usage.total, tier.plainPrices.total)
        cost.total = cost.totalKey ?? ((cost.input ?? .zero) + (cost.output ?? .zero))
        return cost
    }

    /// ``holds(_:for:)`` for a usage condition over a plain usage; nil for an attribute condition
    /// (the caller reads those).
    static func holds(_ condition: TierCondition, for usage: PlainUsage) -> Bool? {
        guard case .usage(_, let pattern, let comparison, let value) = condition else { return nil }
        return comparison.holds(FixedDecimal(saturating: usage.sum(of: pattern.plainKeys)), value)
    }
}
