import ArgumentParser
import WickDaemon
import WickJSON
import WickModel

/// Which price tables a query command uses: those of the daemon's configuration (`--config`, with the
/// same `WICK_*` overrides), or files named here, before Wick's own.
struct PriceOptions: ParsableArguments {
    @Option(help: "A config file whose prices.* keys to use (as `wick serve --config`).") var config: String?
    @Option(name: .customLong("prices"), help: "A price table (Langfuse's JSON format) before the others; repeatable.")
    var priceFiles: [String] = []
    @Flag(help: "Leave out Wick's embedded price table.") var noDefaultPrices = false

    /// The configuration the options name, with their price files first.
    func configuration() async throws -> WickConfiguration {
        var configuration = try await WickConfiguration.load(file: config, flags: [:], environment: ProcessEnvironment.current)
        configuration.priceFiles = priceFiles + configuration.priceFiles
        if noDefaultPrices { configuration.priceDefaults = false }
        return configuration
    }

    func load() async throws -> PriceBook {
        try await configuration().loadPrices()
    }
}

struct PricesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prices",
        abstract: "Model prices: which entry and tier a model name matches.",
        subcommands: [PricesMatch.self])
}

struct PricesMatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Show the price entry and tier a model name matches, and its prices.",
        discussion: """
            Give usage (--usage input=1200 --usage output=300) to see the tier it selects and what it \
            costs; --param and --metadata set what attribute conditions read (--param service_tier=flex).
            """)

    @Argument(help: "The model name, as a generation reports it.") var model: String
    @Option(help: "A usage count, KEY=N; repeatable.") var usage: [String] = []
    @Option(help: "A model parameter, KEY=VALUE; repeatable.") var param: [String] = []
    @Option(help: "A metadata value, KEY=VALUE; repeatable.") var metadata: [String] = []
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var prices: PriceOptions

    func run() async throws {
        let book: PriceBook
        do {
            book = try await prices.load()
        } catch {
            printError("wick prices: \(error)")
            throw ExitCode(2)
        }
        var observation = Observation(id: "match", traceId: "match", type: .generation, startTime: .minimum)
        observation.model = model
        for item in usage {
            guard let (key, value) = split(item), let count = UInt64(value) else {
                printError("wick prices: --usage takes KEY=N, not \(item)")
                throw ExitCode(2)
            }
            observation.usageDetails[key] = count
        }
        if !observation.usageDetails.isEmpty && observation.usageDetails["total"] == nil {
            observation.usageDetails["total"] = UsageCount.total(of: observation.usageDetails.values)
        }
        var parameters = JSONObject()
        for item in param {
            guard let (key, value) = split(item) else { throw ValidationError("--param takes KEY=VALUE") }
            parameters[key] = .string(value)
        }
        if !parameters.isEmpty { observation.modelParameters = .object(parameters) }
        for item in metadata {
            guard let (key, value) = split(item) else { throw ValidationError("--metadata takes KEY=VALUE") }
            observation.metadata[key] = .string(value)
        }
        let matches = book.allMatches(model)
        let entry = book.match(model)
        let tier = entry.flatMap { CostCalculator.tier(of: $0, for: observation) }
        let cost = CostCalculator.cost(of: observation, prices: book)
        if json {
            print(String(decoding: PriceReport.json(model: model, entry: entry, tier: tier, cost: cost,
                                                    shadowed: Array(matches.dropFirst())).serialized(), as: UTF8.self))
        } else {
            print(PriceReport.text(model: model, entry: entry, tier: tier, cost: cost, shadowed: Array(matches.dropFirst()),
                                   sources: book.sources), terminator: "")
        }
        if entry == nil { throw ExitCode(1) }
    }

    private func split(_ item: String) -> (String, String)? {
        guard let equals = item.firstIndex(of: "=") else { return nil }
        return (String(item[..<equals]), String(item[item.index(after: equals)...]))
    }
}

/// What `wick prices match` prints.
enum PriceReport {
    static func text(model: String, entry: PriceEntry?, tier: PricingTier?, cost: ObservationCost?, shadowed: [PriceEntry],
                     sources: [String]) -> String {
        guard let entry else {
            return "\(model): no price entry matches (searched \(sources.joined(separator: ", ")))\n"
        }
        var out = "\(model) matches \(entry.modelName) (\(entry.id))\n"
        out += "  pattern  \(entry.matchPattern)\n  from     \(entry.source)\n"
        if let tier {
            out += "  tier     \(tier.name)\(tier.isDefault ? " (default)" : "")\n"
            for (key, price) in tier.prices.sorted(by: { $0.key < $1.key }) {
                out += "    \(key.padding(32))  \(price) USD/unit  (\(perMillion(price)) USD/M)\n"
            }
        }
        for other in entry.tiers where other.id != tier?.id {
            out += "  other tier: \(other.name)\(other.isDefault ? " (default)" : ""), priority \(other.priority)\n"
        }
        if let cost {
            out += "  cost\n"
            for (key, value) in cost.details.sorted(by: { $0.key < $1.key }) { out += "    \(key.padding(32))  \(value)\n" }
            out += "    \("total".padding(32))  \(cost.total.map(\.description) ?? "-")\n"
        }
        for other in shadowed { out += "  also matches, shadowed: \(other.modelName) (\(other.id)) from \(other.source)\n" }
        return out
    }

    static func json(model: String, entry: PriceEntry?, tier: PricingTier?, cost: ObservationCost?, shadowed: [PriceEntry]) -> JSONValue {
        func prices(_ map: [String: FixedDecimal]) -> JSONValue {
            .object(JSONObject(map.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value.json)) }))
        }
        var object: JSONObject = ["model": .string(model)]
        guard let entry else {
            object["match"] = .null
            return .object(object)
        }
        object["match"] = .object([
            "id": .string(entry.id), "modelName": .string(entry.modelName), "matchPattern": .string(entry.matchPattern),
            "source": .string(entry.source),
        ])
        object["tier"] = tier.map { .object(["id": .string($0.id), "name": .string($0.name), "isDefault": .bool($0.isDefault),
                                              "prices": prices($0.prices)]) } ?? .null
        object["cost"] = cost.map { .object(["details": prices($0.details), "total": $0.total.map { .number($0.json) } ?? .null]) } ?? .null
        object["shadowed"] = .array(shadowed.map { .string($0.id) })
        return .object(object)
    }

    static func perMillion(_ price: FixedDecimal) -> String {
        price.multiplied(by: FixedDecimal(1_000_000)).map(\.description) ?? "-"
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
