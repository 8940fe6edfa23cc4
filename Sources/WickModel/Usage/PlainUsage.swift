/// Usage given under `input`, `output` and `total` alone, the shape most clients send
/// (`"usage": {"input": 10, "output": 2}`): compaction folds, sums, prices and writes it without the
/// dictionary the fold keeps (``dictionary`` is that dictionary).
public struct PlainUsage: Sendable, Hashable {
    public var input: UInt64?
    public var output: UInt64?
    public var total: UInt64?

    public init(input: UInt64? = nil, output: UInt64? = nil, total: UInt64? = nil) {
        self.input = input
        self.output = output
        self.total = total
    }

    public var isEmpty: Bool { input == nil && output == nil && total == nil }

    /// The usage as the fold keeps it.
    public var dictionary: [String: UInt64] {
        var counts: [String: UInt64] = [:]
        if let input { counts["input"] = input }
        if let output { counts["output"] = output }
        if let total { counts["total"] = total }
        return counts
    }

    /// The fold's rule for a usage given without a total: the sum of its counts.
    mutating func completeTotal() {
        guard total == nil, !isEmpty else { return }
        total = UsageCount.sum(input ?? 0, output ?? 0)
    }

    /// Adds `other`'s counts key by key, as a trace's usage sums its observations'.
    mutating func add(_ other: PlainUsage) {
        if let count = other.input { input = UsageCount.sum(input ?? 0, count) }
        if let count = other.output { output = UsageCount.sum(output ?? 0, count) }
        if let count = other.total { total = UsageCount.sum(total ?? 0, count) }
    }

    /// Some of the three keys.
    struct Keys: OptionSet, Sendable {
        let rawValue: UInt8
        static let input = Keys(rawValue: 1)
        static let output = Keys(rawValue: 2)
        static let total = Keys(rawValue: 4)
        static let names: [(Keys, String)] = [(.input, "input"), (.output, "output"), (.total, "total")]
    }

    /// The sum of the counts under `keys`.
    func sum(of keys: Keys) -> UInt64 {
        var sum: UInt64 = 0
        if keys.contains(.input), let input { sum = UsageCount.sum(sum, input) }
        if keys.contains(.output), let output { sum = UsageCount.sum(sum, output) }
        if keys.contains(.total), let total { sum = UsageCount.sum(sum, total) }
        return sum
    }

    /// A tier's prices for the three keys.
    struct Prices: Sendable {
        var input: FixedDecimal?
        var output: FixedDecimal?
        var total: FixedDecimal?
    }
}

/// Usage counts add up saturating: a client may send any count up to 2^64 − 1 (as a string), and a
/// sum past that must not stop the fold.
public enum UsageCount: Sendable {
    public static func sum(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    public static func total<S: Sequence<UInt64>>(of counts: S) -> UInt64 {
        counts.reduce(0, sum)
    }
}
