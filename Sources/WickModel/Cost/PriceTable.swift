import WickJSON

/// One model's prices, as Langfuse's price table holds them (reference §3.1): a full-match pattern
/// over model names and pricing tiers, the default last. A class: every priced observation refers
/// to its entry, and one reference is cheaper to pass around than the record.
public final class PriceEntry: Sendable {
    public let id: String
    public let modelName: String
    public let matchPattern: String
    /// Non-default tiers by ascending priority, then the default tier.
    public let tiers: [PricingTier]
    /// Which file the entry came from, for `wick prices match`.
    public let source: String
    let pattern: CompiledPattern
    /// Some tier has a condition on the model parameters or the metadata: pricing reads them.
    let readsAttributes: Bool

    init(id: String, modelName: String, matchPattern: String, tiers: [PricingTier], source: String, pattern: CompiledPattern) {
        self.id = id
        self.modelName = modelName
        self.matchPattern = matchPattern
        self.tiers = tiers
        self.source = source
        self.pattern = pattern
        readsAttributes = tiers.contains { tier in
            tier.conditions.contains { if case .attribute = $0 { true } else { false } }
        }
    }

    public var defaultTier: PricingTier? { tiers.last(where: \.isDefault) }
}

public struct PricingTier: Sendable {
    public let id: String
    public let name: String
    public let isDefault: Bool
    public let priority: Int
    public let conditions: [TierCondition]
    /// USD per unit of each usage key.
    public let prices: [String: FixedDecimal]
    /// Some price has more than 12 decimal places, so costs need rounding (most have at most 10).
    public let needsRounding: Bool
    /// The prices of a plain usage's keys, looked up once.
    let plainPrices: PlainUsage.Prices

    public init(id: String, name: String, isDefault: Bool, priority: Int, conditions: [TierCondition], prices: [String: FixedDecimal]) {
        self.id = id
        self.name = name
        self.isDefault = isDefault
        self.priority = priority
        self.conditions = conditions
        self.prices = prices
        needsRounding = prices.values.contains { $0.hasMorePlaces(than: CostCalculator.places) }
        plainPrices = PlainUsage.Prices(input: prices["input"], output: prices["output"], total: prices["total"])
    }
}

/// A tier applies when all of its conditions hold.
public enum TierCondition: Sendable {
    /// The sum of the usage values whose keys the pattern finds, compared with `value`.
    case usage(pattern: String, compiled: CompiledPattern, comparison: Comparison, value: FixedDecimal)
    /// A top-level key of the model parameters or metadata whose value, as text, is one of `values`.
    case attribute(source: AttributeSource, key: String, values: [String])

    public enum Comparison: String, Sendable {
        case gt, gte, lt, lte, eq, neq

        /// Whether `sum` compares so with `value`.
        func holds(_ sum: FixedDecimal, _ value: FixedDecimal) -> Bool {
            switch self {
            case .gt: sum > value
            case .gte: sum >= value
            case .lt: sum < value
            case .lte: sum <= value
            case .eq: sum == value
            case .neq: sum != value
            }
        }
    }

    public enum AttributeSource: String, Sendable {
        case modelParameters = "model_parameters"
        case metadata
    }
}

/// A compiled regular expression. Immutable once made, so shared freely between threads.
public final class CompiledPattern: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>
    /// Which of the plain usage keys (`input`, `output`, `total`) the pattern finds, for a usage
    /// condition: compaction decides those without running the expression (empty otherwise).
    let plainKeys: PlainUsage.Keys

    init(_ pattern: String, ignoringCase: Bool, findingPlainKeys: Bool = false) throws {
        let compiled = try Regex(pattern)
        let regex = ignoringCase ? compiled.ignoresCase() : compiled
        self.regex = regex
        var keys = PlainUsage.Keys()
        if findingPlainKeys {
            for (key, name) in PlainUsage.Keys.names where (try? regex.firstMatch(in: name)) != nil { keys.insert(key) }
        }
        plainKeys = keys
    }

    /// The whole of `text` matches.
    func matchesWhole(_ text: String) -> Bool {
        (try? regex.wholeMatch(in: text)) != nil
    }

    /// Somewhere in `text` matches.
    func matchesPart(_ text: String) -> Bool {
        (try? regex.firstMatch(in: text)) != nil
    }
}

/// Why a price table could not be read: the file and the entry at fault.
public struct PriceTableError: Error, Sendable, CustomStringConvertible {
    public var source: String
    public var message: String
    public var description: String { "\(source): \(message)" }
}

/// Reads price tables in both of Langfuse's JSON shapes (reference §3.1): the current one
/// (`modelName`, `matchPattern`, `pricingTiers`) and the older one (`model_name`, `match_pattern`,
/// `prices`). A table is a JSON array of entries (or an object with a `models` or `data` array).
public enum PriceTable: Sendable {
    public static func parse(_ bytes: [UInt8], source: String) throws(PriceTableError) -> [PriceEntry] {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw PriceTableError(source: source, message: "not JSON: \(error)")
        }
        let list: [JSONValue]
        if let array = value.arrayValue {
            list = array
        } else if let array = value["models"]?.arrayValue ?? value["data"]?.arrayValue {
            list = array
        } else {
            throw PriceTableError(source: source, message: "expected an array of model entries")
        }
        var entries: [PriceEntry] = []
        entries.reserveCapacity(list.count)
        for (position, item) in list.enumerated() {
            guard let object = item.objectValue else {
                throw PriceTableError(source: source, message: "entry \(position) is not an object")
            }
            do {
                entries.append(try entry(object, source: source))
            } catch {
                let name = object["modelName"]?.stringValue ?? object["model_name"]?.stringValue ?? "#\(position)"
                throw PriceTableError(source: source, message: "entry \(name): \(error.message)")
            }
        }
        return entries
    }

    struct EntryError: Error {
        var message: String
    }

    static func entry(_ object: JSONObject, source: String) throws(EntryError) -> PriceEntry {
        guard let name = object["modelName"]?.stringValue ?? object["model_name"]?.stringValue else {
            throw EntryError(message: "no modelName")
        }
        guard let pattern = object["matchPattern"]?.stringValue ?? object["match_pattern"]?.stringValue else {
            throw EntryError(message: "no matchPattern")
        }
        let compiled: CompiledPattern
        do {
            compiled = try CompiledPattern(pattern, ignoringCase: true)
        } catch {
            throw EntryError(message: "matchPattern \(pattern) is not a regular expression: \(error)")
        }
        let id = object["id"]?.stringValue ?? name
        var tiers: [PricingTier] = []
        if let list = object["pricingTiers"]?.arrayValue {
            for item in list {
                guard let tier = item.objectValue else { throw EntryError(message: "a pricing tier is not an object") }
                tiers.append(try self.tier(tier, entryID: id))
            }
        } else if let prices = object["prices"]?.objectValue {
            tiers.append(PricingTier(id: id + "_tier_default", name: "Standard", isDefault: true, priority: 0,
                                     conditions: [], prices: try self.prices(prices)))
        } else {
            throw EntryError(message: "neither pricingTiers nor prices")
        }
        let defaults = tiers.filter(\.isDefault)
        guard defaults.count == 1 else { throw EntryError(message: "\(defaults.count) default tiers (one expected)") }
        guard defaults[0].conditions.isEmpty else { throw EntryError(message: "the default tier has conditions") }
        let ordered = tiers.enumerated().filter { !$0.element.isDefault }
            .sorted { ($0.element.priority, $0.offset) < ($1.element.priority, $1.offset) }.map(\.element)
        return PriceEntry(id: id, modelName: name, matchPattern: pattern, tiers: ordered + defaults, source: source,
                          pattern: compiled)
    }

    static func tier(_ object: JSONObject, entryID: String) throws(EntryError) -> PricingTier {
        guard let prices = object["prices"]?.objectValue else { throw EntryError(message: "a tier without prices") }
        let isDefault = object["isDefault"]?.boolValue ?? false
        var conditions: [TierCondition] = []
        for item in object["conditions"]?.arrayValue ?? [] {
            guard let condition = item.objectValue else { throw EntryError(message: "a tier condition is not an object") }
            conditions.append(try self.condition(condition))
        }
        return PricingTier(id: object["id"]?.stringValue ?? entryID, name: object["name"]?.stringValue ?? (isDefault ? "Standard" : "tier"),
                           isDefault: isDefault, priority: Int(object["priority"]?.numberValue?.int64Value ?? 0),
                           conditions: conditions, prices: try self.prices(prices))
    }

    static func prices(_ object: JSONObject) throws(EntryError) -> [String: FixedDecimal] {
        var result: [String: FixedDecimal] = [:]
        for (key, value) in object {
            // The older shape allows {"input": {"price": …}} as the models API returns it.
            let number = value.numberValue ?? value["price"]?.numberValue
            if value.isNull { continue }
            guard let number, let price = FixedDecimal(number), price >= .zero else {
                throw EntryError(message: "price \(key) is not a non-negative number")
            }
            result[key] = price
        }
        return result
    }

    static func condition(_ object: JSONObject) throws(EntryError) -> TierCondition {
        if let pattern = object["usageDetailPattern"]?.stringValue {
            guard let operatorName = object["operator"]?.stringValue, let comparison = TierCondition.Comparison(rawValue: operatorName) else {
                throw EntryError(message: "usage condition with an unknown operator")
            }
            guard let number = object["value"]?.numberValue, let value = FixedDecimal(number) else {
                throw EntryError(message: "usage condition without a numeric value")
            }
            let compiled: CompiledPattern
            do {
                compiled = try CompiledPattern(pattern, ignoringCase: !(object["caseSensitive"]?.boolValue ?? false),
                                               findingPlainKeys: true)
            } catch {
                throw EntryError(message: "usageDetailPattern \(pattern) is not a regular expression")
            }
            return .usage(pattern: pattern, compiled: compiled, comparison: comparison, value: value)
        }
        guard let sourceName = object["source"]?.stringValue, let source = TierCondition.AttributeSource(rawValue: sourceName),
              let key = object["key"]?.stringValue
        else {
            throw EntryError(message: "a condition that is neither a usage nor an attribute condition")
        }
        guard (object["operator"]?.stringValue ?? "in") == "in", let values = object["values"]?.arrayValue else {
            throw EntryError(message: "attribute condition \(key): only operator in with values is known")
        }
        return .attribute(source: source, key: key, values: values.compactMap(\.stringValue))
    }
}
