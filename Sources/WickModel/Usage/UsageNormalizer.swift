public import WickJSON

/// Usage and cost as one event provides them, normalised the way Langfuse's ingestion does
/// (reference §1.5): the legacy `usage` object (Langfuse or OpenAI camelCase form), then
/// `usageDetails` (OpenAI Chat Completions, OpenAI Responses, or a plain map), then `costDetails`.
public struct ProvidedUsage: Sendable, Hashable {
    public var usage: [String: UInt64] = [:]
    public var unit: String?
    /// Costs in USD, kept as the client's decimal text.
    public var costs: [String: JSONNumber] = [:]

    public init() {}

    /// From a body given as a JSON object (its `usage`, `usageDetails` and `costDetails`).
    public static func from(_ body: JSONObject) -> ProvidedUsage {
        from(usage: body["usage"]?.objectValue, usageDetails: body["usageDetails"]?.objectValue,
             costDetails: body["costDetails"]?.objectValue)
    }

    public static func from(_ body: EventBody) -> ProvidedUsage {
        guard body.usage != nil || body.usageDetails != nil || body.costDetails != nil else { return ProvidedUsage() }
        return from(usage: body.usage, usageDetails: body.usageDetails, costDetails: body.costDetails)
    }

    public static func from(usage: JSONObject?, usageDetails: JSONObject?, costDetails: JSONObject?) -> ProvidedUsage {
        var result = ProvidedUsage()
        var usageTotalGiven = false
        if let legacy = usage, !legacy.isEmpty {
            let openAI = legacy["promptTokens"] != nil || legacy["completionTokens"] != nil || legacy["totalTokens"] != nil
            let keys = openAI ? [("promptTokens", "input"), ("completionTokens", "output"), ("totalTokens", "total")]
                : [("input", "input"), ("output", "output"), ("total", "total")]
            for (from, to) in keys {
                if let count = count(legacy[from]) {
                    result.usage[to] = count
                    if to == "total" { usageTotalGiven = true }
                }
            }
            result.unit = openAI ? "TOKENS" : legacy["unit"]?.stringValue
            if !openAI {
                for (from, to) in [("inputCost", "input"), ("outputCost", "output"), ("totalCost", "total")] {
                    if let number = legacy[from]?.numberValue { result.costs[to] = number }
                }
            }
        }
        let details = usageDetails.map(normaliseDetails) ?? [:]
        if !usageTotalGiven && details.isEmpty, let input = result.usage["input"], let output = result.usage["output"] {
            result.usage["total"] = UsageCount.sum(input, output)
        }
        for (key, value) in details { result.usage[key] = value }
        if let costs = costDetails {
            for (key, value) in costs {
                if let number = value.numberValue { result.costs[key] = number }
            }
        }
        return result
    }

    /// `usageDetails` in its three accepted shapes, tried in Langfuse's order.
    static func normaliseDetails(_ details: JSONObject) -> [String: UInt64] {
        if let converted = openAI(details, input: "prompt_tokens", output: "completion_tokens",
                                  inputDetails: "prompt_tokens_details", outputDetails: "completion_tokens_details") {
            return converted
        }
        if let converted = openAI(details, input: "input_tokens", output: "output_tokens",
                                  inputDetails: "input_tokens_details", outputDetails: "output_tokens_details") {
            return converted
        }
        var map: [String: UInt64] = [:]
        for (key, value) in details {
            if let count = count(value) { map[key] = count }
        }
        return map
    }

    /// An OpenAI usage object (strict: only its own keys): detail keys become `input_<k>` and
    /// `output_<k>` and are subtracted from `input` and `output`, floored at zero.
    private static func openAI(_ details: JSONObject, input: String, output: String, inputDetails: String,
                               outputDetails: String) -> [String: UInt64]? {
        let allowed: Set<String> = [input, output, "total_tokens", inputDetails, outputDetails]
        guard details.keys.allSatisfy(allowed.contains),
              let inputCount = count(details[input]), let outputCount = count(details[output]),
              let total = count(details["total_tokens"])
        else { return nil }
        var result: [String: UInt64] = ["input": inputCount, "output": outputCount, "total": total]
        for (detailsKey, prefix) in [(inputDetails, "input"), (outputDetails, "output")] {
            guard let value = details[detailsKey], !value.isNull else { continue }
            guard let object = value.objectValue else { return nil }
            for (key, item) in object {
                if item.isNull { continue }
                guard let amount = count(item) else { return nil }
                result["\(prefix)_\(key)"] = amount
                result[prefix] = (result[prefix] ?? 0) >= amount ? (result[prefix] ?? 0) - amount : 0
            }
        }
        return result
    }

    /// A non-negative integer count (numeric strings parse, as Langfuse coerces them).
    static func count(_ value: JSONValue?) -> UInt64? {
        switch value {
        case .number(let number)?:
            // Up to 2^64 − 1 as a string takes: a document writes such a count back as a number.
            if let integer = number.int64Value { return integer >= 0 ? UInt64(integer) : nil }
            return UInt64(number.text)
        case .string(let text)?:
            return UInt64(text)
        default:
            return nil
        }
    }
}
