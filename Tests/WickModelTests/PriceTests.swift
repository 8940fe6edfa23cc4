import Foundation
import Testing
import WickJSON
@testable import WickModel
import WickTestSupport

/// Price tables, model matching and cost (reference §3), against Langfuse's own table.
@Suite struct PriceTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let langfuseTablePath = repository.deletingLastPathComponent()
        .appendingPathComponent("shared/reference/langfuse/default-model-prices.json").path

    static let langfuse: PriceBook = {
        let bytes = [UInt8](FileManager.default.contents(atPath: langfuseTablePath)!)
        return try! PriceBook.load([(langfuseTablePath, bytes)], includeDefaults: false)
    }()

    static func generation(_ model: String, usage: [String: UInt64] = [:], parameters: JSONObject? = nil,
                           providedCosts: [String: JSONNumber] = [:]) -> Observation {
        var observation = Observation(id: "g", traceId: "t", type: .generation, startTime: time(0))
        observation.model = model
        observation.usageDetails = usage
        if !usage.isEmpty && usage["total"] == nil { observation.usageDetails["total"] = usage.values.reduce(0, +) }
        observation.modelParameters = parameters.map { .object($0) }
        observation.providedCostDetails = providedCosts
        return observation
    }

    static func decimal(_ text: String) -> FixedDecimal { FixedDecimal(text)! }

    // MARK: - Exact decimals

    @Test(arguments: [
        ("2.5e-06", "0.0000025"), ("1e-05", "0.00001"), ("0.000135", "0.000135"), ("12", "12"), ("-0.5", "-0.5"),
        ("1.25E-7", "0.000000125"), ("0", "0"), ("123456789.123456789", "123456789.123456789"),
        ("1e-21", "0"), ("1.5e-20", "0.00000000000000000002"), ("2.5e-20", "0.00000000000000000002"),
    ])
    func decimalsParseExactly(text: String, expected: String) {
        #expect(FixedDecimal(text)?.description == expected)
    }

    /// Written to bytes (compaction's documents), a decimal is its description.
    @Test func decimalsWriteTheirDescription() {
        var generator = SplitMix(seed: 42)
        var values: [FixedDecimal] = [.zero, FixedDecimal(1), Self.decimal("-0.5"), Self.decimal("0.00000000000000000001"),
                                      Self.decimal("1700000000000000000"), Self.decimal("-1700000000000000000.00000000000000000001"),
                                      Self.decimal("10000000000.1"), Self.decimal("0.1000000000")]
        for _ in 0..<2000 {
            let digits = String(UInt64.random(in: 0...UInt64.max, using: &generator))
            let point = Int.random(in: 0...digits.count, using: &generator)
            let text = (Bool.random(using: &generator) ? "-" : "") + digits.prefix(point) + "." + digits.dropFirst(point) + "1"
            if let value = FixedDecimal(text) { values.append(value) }
        }
        for value in values {
            var bytes: [UInt8] = []
            value.write(to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == value.description)
        }
    }

    @Test func decimalsRefuseWhatIsNotANumberOrOutOfRange() {
        for text in ["", "-", "abc", "1.2.3", "1e", "1e400", "99999999999999999999"] {
            #expect(FixedDecimal(text) == nil, "\(text)")
        }
    }

    @Test func productsAreExactWhereDoublesDrift() {
        // In binary floating point 1000 × 2.5e-6 × 3 … drifts; the decimal does not.
        let price = Self.decimal("1.5e-07")
        #expect(FixedDecimal(1000).multiplied(by: price)?.description == "0.00015")
        #expect(FixedDecimal(3).multiplied(by: Self.decimal("0.1"))?.description == "0.3")
        #expect(0.1 * 3 != 0.3)
        var sum = FixedDecimal.zero
        for _ in 0..<10 { sum = sum + Self.decimal("0.1") }
        #expect(sum.description == "1")
        // Large usage times a large price stays exact (the product needs more than 128 bits).
        #expect(FixedDecimal(2_000_000_000).multiplied(by: Self.decimal("0.00018"))?.description == "360000")
        #expect(Self.decimal("0.0000000000004").rounded(toPlaces: 12).description == "0")
        #expect(Self.decimal("0.0000000000005").rounded(toPlaces: 12).description == "0")  // half to even
        #expect(Self.decimal("0.0000000000015").rounded(toPlaces: 12).description == "0.000000000002")
    }

    // MARK: - Matching, against Langfuse's table

    /// Names built around every entry's own name: provider prefixes, cloud forms, case, neighbours.
    static func probes(_ entries: [PriceEntry]) -> [String] {
        var names = Set<String>()
        for entry in entries {
            let name = entry.modelName
            names.formUnion([name, name.uppercased(), "openai/" + name, "anthropic/" + name, "google/" + name,
                             "googleai/" + name, name + "-x", "x-" + name, name + "@20240101", name + "@001",
                             name.replacingOccurrences(of: ".", with: "-"), name.replacingOccurrences(of: "-", with: "."),
                             "us.anthropic." + name + "-v1:0", "eu.anthropic." + name + "-v2:0", "anthropic." + name + "-v1:0",
                             "ft:" + name + ":org:custom:id", name + "-latest", " " + name])
        }
        names.formUnion(["GPT-4O", "openai/gpt-4o-mini", "gpt-35-turbo", "claude-3-7-sonnet-20250219", "claude-3-5-sonnet-20241022",
                         "us.anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic/claude-sonnet-4-5", "mistral-large",
                         // Entries whose modelName is only a label, with names their patterns do take.
                         "gpt-4-vision-preview", "gpt-4-1106-vision-preview", "ft:gpt-3.5-turbo-1106:acme::abc"])
        return names.sorted()
    }

    /// For each probe, the ids of the entries whose pattern Python's `re` full-matches (case-insensitive).
    static func pythonMatches(tablePath: String, probes: [String]) throws -> [String: [String]] {
        let script = """
            import json, re, sys
            table = json.load(open(sys.argv[1]))
            probes = json.load(sys.stdin)
            out = {}
            for probe in probes:
                out[probe] = [e.get("id", e.get("modelName")) for e in table
                              if re.fullmatch(e.get("matchPattern") or e.get("match_pattern"), probe, re.IGNORECASE)]
            json.dump(out, sys.stdout)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, tablePath]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: probes))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return try JSONSerialization.jsonObject(with: data) as? [String: [String]] ?? [:]
    }

    @Test func everyLangfuseEntryMatchesWhatPythonsRegexMatches() throws {
        let book = Self.langfuse
        #expect(book.entries.count == 167)
        let probes = Self.probes(book.entries)
        let expected = try Self.pythonMatches(tablePath: Self.langfuseTablePath, probes: probes)
        #expect(expected.count == probes.count)
        var matchedBy: [String: Int] = [:]
        var missedBy: [String: Int] = [:]
        for probe in probes {
            let wick = book.allMatches(probe).map(\.id)
            #expect(wick == expected[probe], "\(probe)")
            for entry in book.entries {
                if wick.contains(entry.id) { matchedBy[entry.id, default: 0] += 1 } else { missedBy[entry.id, default: 0] += 1 }
            }
            // No two of Langfuse's patterns overlap (reference §3.5).
            #expect(wick.count <= 1, "\(probe) matches \(wick)")
        }
        // Every entry has names it must match and names it must not.
        for entry in book.entries {
            #expect(matchedBy[entry.id, default: 0] > 0, "\(entry.modelName) matches none of the probes")
            #expect(missedBy[entry.id, default: 0] > 0, "\(entry.modelName) matches every probe")
        }
    }

    @Test(arguments: [
        ("GPT-4O", "gpt-4o"), ("openai/gpt-4o-mini", "gpt-4o-mini"), ("gpt-35-turbo", "gpt-3.5-turbo"),
        ("claude-3-7-sonnet-20250219", "claude-3.7-sonnet-20250219"),
        ("claude-3-5-sonnet-20241022", "claude-3.5-sonnet-20241022"),
        ("us.anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku-20241022"),
        ("anthropic/claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
    ])
    func theReferencesMatchingChecks(model: String, entry: String) {
        #expect(Self.langfuse.match(model)?.modelName == entry)
    }

    @Test func unknownModelsMatchNothingAndTheAnswerIsCached() {
        #expect(Self.langfuse.match("mistral-large") == nil)
        #expect(Self.langfuse.match("mistral-large") == nil)
        #expect(Self.langfuse.match("claude-3.5-sonnet-latest") == nil)  // a modelName that is only a label
    }

    // MARK: - Cost

    @Test func theWorkedExample() throws {
        let cost = try #require(CostCalculator.cost(of: Self.generation("gpt-4o-mini", usage: ["input": 1000, "output": 500]),
                                                    prices: Self.langfuse))
        #expect(cost.details["input"]?.description == "0.00015")
        #expect(cost.details["output"]?.description == "0.0003")
        #expect(cost.total?.description == "0.00045")
        #expect(!cost.provided)
        #expect(cost.tierName == "Standard")
    }

    @Test(arguments: [
        ("gpt-4o", "2.5e-6", "1e-5"), ("gpt-4o-2024-08-06", "2.5e-6", "1e-5"), ("gpt-4-turbo", "1e-5", "3e-5"),
        ("gpt-4", "3e-5", "6e-5"), ("gpt-3.5-turbo", "5e-7", "1.5e-6"), ("gpt-4.1", "2e-6", "8e-6"),
        ("gpt-4.1-mini", "4e-7", "1.6e-6"), ("o3-mini", "1.1e-6", "4.4e-6"), ("gpt-5", "1.25e-6", "1e-5"),
        ("claude-3-5-sonnet-20240620", "3e-6", "1.5e-5"), ("claude-3-5-haiku-20241022", "8e-7", "4e-6"),
        ("claude-3-haiku-20240307", "2.5e-7", "1.25e-6"), ("claude-sonnet-4-20250514", "3e-6", "1.5e-5"),
        ("claude-opus-4-1-20250805", "1.5e-5", "7.5e-5"), ("gemini-2.0-flash", "1e-7", "4e-7"),
        ("gemini-2.5-pro", "1.25e-6", "1e-5"),
    ])
    func theReferencesPriceRows(model: String, input: String, output: String) throws {
        // 100k tokens each: under every large-context threshold.
        let cost = try #require(CostCalculator.cost(of: Self.generation(model, usage: ["input": 100_000, "output": 100_000]),
                                                    prices: Self.langfuse))
        #expect(cost.prices["input"] == Self.decimal(input))
        #expect(cost.prices["output"] == Self.decimal(output))
        #expect(cost.total == Self.decimal(input).multiplied(by: FixedDecimal(100_000))! + Self.decimal(output).multiplied(by: FixedDecimal(100_000))!)
    }

    @Test func embeddingsArePricedByTheirTotal() throws {
        let cost = try #require(CostCalculator.cost(of: Self.generation("text-embedding-3-small", usage: ["input": 1000]),
                                                    prices: Self.langfuse))
        #expect(cost.details == ["total": Self.decimal("0.00002")])
        #expect(cost.total?.description == "0.00002")
        let ada = try #require(CostCalculator.cost(of: Self.generation("text-embedding-ada-002", usage: ["input": 1000]), prices: Self.langfuse))
        #expect(ada.total?.description == "0.0001")
    }

    @Test func geminiLargeContextTier() throws {
        let small = try #require(CostCalculator.cost(of: Self.generation("gemini-2.5-pro", usage: ["input": 200_000, "output": 10]),
                                                     prices: Self.langfuse))
        #expect(small.tierName == "Standard")
        #expect(small.prices["input"] == Self.decimal("1.25e-6"))
        let large = try #require(CostCalculator.cost(of: Self.generation("gemini-2.5-pro", usage: ["input": 200_001, "output": 10]),
                                                     prices: Self.langfuse))
        #expect(large.tierName != "Standard")
        #expect(large.prices["input"] == Self.decimal("2.5e-6"))
        #expect(large.prices["output"] == Self.decimal("1.5e-5"))
        #expect(large.total?.description == "0.5001525")  // 200,001 × 2.5e-6 + 10 × 1.5e-5
    }

    @Test func gpt4oFastModeTierReadsModelParameters() throws {
        for (tierValue, expected) in [("fast", "Fast mode"), ("priority", "Fast mode"), ("flex", "Standard"), ("default", "Standard")] {
            let cost = try #require(CostCalculator.cost(
                of: Self.generation("gpt-4o", usage: ["input": 1000, "output": 100], parameters: ["service_tier": .string(tierValue)]),
                prices: Self.langfuse))
            #expect(cost.tierName == expected, "\(tierValue)")
        }
        let fast = try #require(CostCalculator.cost(
            of: Self.generation("gpt-4o", usage: ["input": 1000], parameters: ["service_tier": "fast"]), prices: Self.langfuse))
        #expect(fast.details["input"]?.description == "0.00425")
        // o3's Flex tier (priority 2) applies only when Fast mode (priority 1) does not.
        let flex = try #require(CostCalculator.cost(
            of: Self.generation("o3", usage: ["input": 1000], parameters: ["service_tier": "flex"]), prices: Self.langfuse))
        #expect(flex.tierName == "Flex")
    }

    @Test func providedCostsOverrideComputation() throws {
        let given = try #require(CostCalculator.cost(
            of: Self.generation("gpt-4o", usage: ["input": 1000, "output": 500], providedCosts: ["input": JSONNumber("0.5")!]),
            prices: Self.langfuse))
        #expect(given.provided)
        #expect(given.details == ["input": Self.decimal("0.5")])
        #expect(given.total == Self.decimal("0.5"))
        #expect(given.modelName == "gpt-4o")  // the match is still recorded
        let withTotal = try #require(CostCalculator.cost(
            of: Self.generation("nobody-knows", providedCosts: ["input": JSONNumber("0.1")!, "total": JSONNumber("0.25")!]),
            prices: Self.langfuse))
        #expect(withTotal.total == Self.decimal("0.25"))
        // Other keys and no total: Langfuse leaves the total undefined.
        let other = try #require(CostCalculator.cost(
            of: Self.generation("gpt-4o", providedCosts: ["input_audio": JSONNumber("0.1")!]), prices: Self.langfuse))
        #expect(other.total == nil)
    }

    @Test func usageKeysWithoutAPriceAreNotCosted() throws {
        let cost = try #require(CostCalculator.cost(
            of: Self.generation("gpt-4o", usage: ["prompt_tokens": 1000, "input": 10, "output": 0]), prices: Self.langfuse))
        #expect(cost.details.keys.sorted() == ["input", "output"])
        #expect(cost.total?.description == "0.000025")
        let none = try #require(CostCalculator.cost(of: Self.generation("gpt-4o", usage: ["prompt_tokens": 1000]), prices: Self.langfuse))
        #expect(none.details.isEmpty)
        #expect(none.total == .zero)
        #expect(CostCalculator.cost(of: Self.generation("gpt-4o"), prices: Self.langfuse) == nil)  // no usage
        #expect(CostCalculator.cost(of: Self.generation("mistral-large", usage: ["input": 5]), prices: Self.langfuse) == nil)
    }

    /// Compaction prices a plain usage (`input`, `output`, `total`) without the calculator's maps:
    /// for every entry of Langfuse's table and Wick's, with counts around each tier's thresholds and
    /// past what a decimal holds, the same tier and the same costs as the calculator.
    @Test func plainUsageIsPricedAsTheCalculatorPricesIt() throws {
        var generator = SplitMix(seed: 29)
        let counts: [UInt64] = [0, 1, 7, 999, 128_000, 199_999, 200_000, 200_001, 272_001, 1_000_000, 999_999_999_999_999_999,
                                1_700_000_000_000_000_001, .max]
        func count(_ generator: inout SplitMix) -> UInt64? {
            Bool.random(using: &generator) ? counts[Int.random(in: 0..<counts.count, using: &generator)] : nil
        }
        var priced = 0
        var tiered = 0
        for entry in Self.langfuse.entries + PriceBook.defaults.entries {
            for _ in 0..<12 {
                var usage = PlainUsage(input: count(&generator), output: count(&generator), total: count(&generator))
                usage.completeTotal()
                // No model parameters or metadata: attribute conditions do not hold, on both sides.
                let tier = CostCalculator.tierIndex(of: entry) { CostCalculator.holds($0, for: usage) ?? false }
                let plain = tier.flatMap { CostCalculator.cost(of: usage, tier: entry.tiers[$0]) }
                var observation = Self.generation(entry.modelName)
                observation.usageDetails = usage.dictionary
                let full = CostCalculator.cost(of: observation, entry: entry)
                #expect(plain?.details == full?.details, "\(entry.modelName) \(usage)")
                #expect(plain?.total == full?.total, "\(entry.modelName) \(usage)")
                #expect(usage.isEmpty || tier == full?.tierIndex, "\(entry.modelName) \(usage)")
                if plain != nil { priced += 1 }
                if let tier, !entry.tiers[tier].isDefault { tiered += 1 }
            }
        }
        #expect(priced > 1000)
        #expect(tiered > 20)
    }

    /// Counts up to 2^64 − 1 are accepted (as strings); sums past that saturate instead of stopping
    /// the fold, and a tier's threshold compares with them without overflowing a decimal.
    @Test func usageCountsNearTheLimitSaturate() throws {
        let huge = "18446744073709551615"
        let usage = ProvidedUsage.from(usage: nil, usageDetails: ["input": .string(huge), "output": .string(huge)], costDetails: nil)
        #expect(usage.usage == ["input": .max, "output": .max])
        var events: [IngestionEvent] = []
        for index in 0..<3 {
            events.append(event("e\(index)", .generationCreate, at: Int64(index), [
                "id": .string("g\(index)"), "traceId": "t1", "model": "gemini-2.5-pro",
                "usageDetails": ["input": .string(huge), "output": "1", "cached": .string(huge)],
            ]))
        }
        let folded = TraceFold.fold(traceID: "t1", events, prices: Self.langfuse)
        #expect(folded.observations.allSatisfy { $0.usageDetails["total"] == .max })
        // Past every threshold: the large-context tier.
        #expect(folded.observations.allSatisfy { $0.cost?.tierName == "Large Context" })
        let summary = TraceSummary(folded, project: "p", lastReceived: 0)
        #expect(summary.usage["input"] == .max && summary.usage["total"] == .max)
        #expect(summary.models["gemini-2.5-pro"]?.total == .max)
    }

    // MARK: - Tables

    @Test func theOlderSnakeCaseShapeReads() throws {
        let table = """
            [{"model_name": "my-model", "match_pattern": "(?i)^(acme/)?my-model$", "prices": {"input": 0.000001, "output": 2e-6}},
             {"modelName": "other", "matchPattern": "other", "pricingTiers": [
                {"name": "Standard", "isDefault": true, "priority": 0, "conditions": [], "prices": {"total": 0.5}}]}]
            """
        let book = try PriceBook.load([("user.json", Array(table.utf8))], includeDefaults: false)
        #expect(book.entries.count == 2)
        let cost = try #require(CostCalculator.cost(of: Self.generation("ACME/my-model", usage: ["input": 3, "output": 4]), prices: book))
        #expect(cost.total?.description == "0.000011")
        #expect(book.match("other")?.modelName == "other")
        #expect(book.match("another") == nil)  // whole-name match, not a search
    }

    @Test func userEntriesComeBeforeTheDefaults() throws {
        let table = #"[{"modelName": "cheap-4o", "matchPattern": "(?i)^gpt-4o$", "prices": {"input": 1e-9}}]"#
        let book = try PriceBook.load([("user.json", Array(table.utf8))])
        #expect(book.match("gpt-4o")?.modelName == "cheap-4o")
        #expect(book.allMatches("gpt-4o").count == 2)
        #expect(book.match("gpt-4o-mini")?.id == "openai/gpt-4o-mini")
    }

    @Test func brokenTablesSayWhichEntryAndWhy() {
        let cases = [
            ("{}", "expected an array"),
            (#"[{"matchPattern": "x", "prices": {}}]"#, "no modelName"),
            (#"[{"modelName": "m", "matchPattern": "(", "prices": {}}]"#, "not a regular expression"),
            (#"[{"modelName": "m", "matchPattern": "m", "prices": {"input": "cheap"}}]"#, "price input"),
            (#"[{"modelName": "m", "matchPattern": "m", "pricingTiers": []}]"#, "0 default tiers"),
            ("not json", "not JSON"),
        ]
        for (table, message) in cases {
            #expect(throws: PriceTableError.self) { try PriceTable.parse(Array(table.utf8), source: "t.json") }
            do {
                _ = try PriceTable.parse(Array(table.utf8), source: "t.json")
            } catch {
                #expect(error.description.contains(message), "\(error)")
            }
        }
    }

    // MARK: - Wick's own table

    @Test func theEmbeddedTableIsConfigModelPricesJSON() throws {
        let path = Self.repository.appendingPathComponent("config/model-prices.json").path
        let file = try #require(FileManager.default.contents(atPath: path))
        #expect(String(decoding: file, as: UTF8.self) == PriceBook.defaultTableJSON + "\n"
                || String(decoding: file, as: UTF8.self) == PriceBook.defaultTableJSON,
                "config/model-prices.json changed: run scripts/embed-prices")
        #expect(PriceBook.defaultEntries.count > 50)
    }

    @Test func theDefaultTableMatchesProviderAndCloudForms() throws {
        let book = PriceBook.defaults
        let cases: [(String, String)] = [
            ("gpt-4o", "openai/gpt-4o"), ("GPT-4o-2024-11-20", "openai/gpt-4o"), ("azure/gpt-4o-mini", "openai/gpt-4o-mini"),
            ("openai/gpt-4.1-nano-2025-04-14", "openai/gpt-4.1-nano"), ("gpt-35-turbo", "openai/gpt-3.5-turbo"),
            ("us.anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic/claude-3-5-haiku"),
            ("anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic/claude-sonnet-4-5"),
            ("claude-sonnet-4-5@20250929", "anthropic/claude-sonnet-4-5"), ("anthropic/claude-sonnet-4-5", "anthropic/claude-sonnet-4-5"),
            ("claude-3-5-sonnet-v2@20241022", "anthropic/claude-3-5-sonnet"), ("claude-3-7-sonnet-latest", "anthropic/claude-3-7-sonnet"),
            ("gemini-2.0-flash-001", "google/gemini-2.0-flash"), ("vertex_ai/gemini-2.5-pro", "google/gemini-2.5-pro"),
            ("gemini-2.5-flash@001", "google/gemini-2.5-flash"), ("mistral-large-latest", "mistral/mistral-large"),
            ("text-embedding-3-large", "openai/text-embedding-3-large"), ("deepseek-chat", "deepseek/deepseek-chat"),
        ]
        for (model, id) in cases {
            #expect(book.match(model)?.id == id, "\(model)")
            #expect(book.allMatches(model).count == 1, "\(model) matches \(book.allMatches(model).map(\.id))")
        }
        for model in ["gpt-4o-mini-x", "claude", "gemini-2.5-pro-max", "llama-2-70b", ""] {
            #expect(book.match(model) == nil, "\(model)")
        }
        // Every entry matches its own name, and only that entry does.
        for entry in book.entries {
            #expect(book.allMatches(entry.modelName).map(\.id) == [entry.id], "\(entry.modelName)")
        }
    }

    @Test func theDefaultTableAgreesWithLangfusesPrices() throws {
        // Where both tables price a model, by the same key and tier, the prices are the same.
        for entry in PriceBook.defaults.entries {
            guard let theirs = Self.langfuse.match(entry.modelName), let ours = entry.defaultTier,
                  let their = theirs.defaultTier else { continue }
            for (key, price) in ours.prices {
                #expect(their.prices[key] == price, "\(entry.modelName) \(key)")
            }
        }
    }

    // MARK: - In traces

    @Test func aTierOnMetadataMakesTheSummaryDecodeKeepMetadata() throws {
        let table = """
            [{"modelName": "m", "matchPattern": "m", "pricingTiers": [
              {"name": "Standard", "isDefault": true, "priority": 0, "conditions": [], "prices": {"input": 1}},
              {"name": "Batch", "isDefault": false, "priority": 1,
               "conditions": [{"source": "metadata", "key": "mode", "operator": "in", "values": ["batch"]}],
               "prices": {"input": 0.5}}]}]
            """
        let book = try PriceBook.load([("user.json", Array(table.utf8))], includeDefaults: false)
        #expect(book.readsMetadata)
        #expect(!PriceBook.defaults.readsMetadata)
        let line = #"{"id":"e","type":"generation-create","timestamp":"2026-01-01T00:00:00Z","#
            + #""body":{"id":"g","traceId":"t","model":"m","metadata":{"mode":"batch"},"usageDetails":{"input":4}}}"#
        func cost(_ scope: DecodeScope) throws -> String? {
            let event = try IngestionEvent.decode(Array(line.utf8), sequence: 1, receiveTime: 0, project: "p", scope: scope).get()
            return TraceSummary(TraceFold.fold(traceID: "t", [event], prices: book), project: "p", lastReceived: 0).totalCost?.text
        }
        #expect(try cost(.full) == "2")
        #expect(try cost(.summary(metadata: book.readsMetadata)) == "2")
        #expect(try cost(.summary()) == "4")  // without the metadata the tier cannot apply
    }

    @Test func foldedTracesCarryComputedAndProvidedCosts() throws {
        let events = [
            event("e1", .traceCreate, at: 0, ["id": "t1", "name": "chat"]),
            event("e2", .generationCreate, at: 1, ["id": "g1", "traceId": "t1", "model": "gpt-4o-mini",
                                                   "usageDetails": ["input": 1000, "output": 500]]),
            event("e3", .generationCreate, at: 2, ["id": "g2", "traceId": "t1", "model": "gpt-4o",
                                                   "usage": ["input": 10, "output": 10], "costDetails": ["total": 0.01]]),
            event("e4", .spanCreate, at: 3, ["id": "s1", "traceId": "t1"]),
        ]
        let folded = TraceFold.fold(traceID: "t1", events, prices: Self.langfuse)
        let g1 = try #require(folded.observations.first { $0.id == "g1" })
        #expect(g1.cost?.total?.description == "0.00045")
        #expect(folded.observations.first { $0.id == "s1" }?.cost == nil)
        let summary = TraceSummary(folded, project: "p", lastReceived: 0)
        #expect(summary.totalCost?.text == "0.01045")
        let json = LangfuseJSON.trace(folded, summary: summary, project: "p", times: .init(created: 0, updated: 0))
        #expect(json["totalCost"]?.numberValue?.text == "0.01045")
        let observation = try #require(json["observations"]?.arrayValue?.first { $0["id"]?.stringValue == "g1" })
        #expect(observation["calculatedTotalCost"]?.numberValue?.text == "0.00045")
        #expect(observation["calculatedInputCost"]?.numberValue?.text == "0.00015")
        #expect(observation["costDetails"]?["output"]?.numberValue?.text == "0.0003")
        #expect(observation["inputPrice"]?.numberValue?.text == "0.00000015")
        #expect(observation["modelId"]?.stringValue != nil)
        // Without a price book only the provided cost counts.
        #expect(TraceSummary(TraceFold.fold(traceID: "t1", events), project: "p", lastReceived: 0).totalCost?.text == "0.01")
    }
}
