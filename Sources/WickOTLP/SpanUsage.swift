import WickJSON

/// Usage and cost from a span (reference §2.4): Langfuse's own JSON attributes first, else the
/// GenAI and OpenInference token counts, normalised to Langfuse's usage keys.
enum SpanUsage {
    static func usage(_ attributes: SpanAttributes) -> JSONObject? {
        if let details = attributes["langfuse.observation.usage_details"]?.object { return details }
        var raw: [String: Int64] = [:]
        var order: [String] = []
        func put(_ key: String, _ value: OTLPValue) {
            guard let count = value.integer, count >= 0 else { return }
            if raw[key] == nil { order.append(key) }
            raw[key] = count
        }
        for (suffix, value) in attributes.suffixes(of: "gen_ai.usage") where suffix != "cost" { put(suffix, value) }
        for (suffix, value) in attributes.suffixes(of: "llm.token_count") {
            switch suffix {
            case "prompt": put("input_tokens", value)
            case "completion": put("output_tokens", value)
            case "total": put("total_tokens", value)
            case "prompt_details.cache_read": put("cache_read_input_tokens", value)
            case "completion_details.reasoning": put("reasoning_tokens", value)
            default: put(suffix, value)
            }
        }
        if let tokens = attributes["ai.usage.tokens"]?.integer, raw["total_tokens"] == nil {
            order.append("total_tokens")
            raw["total_tokens"] = tokens
        }
        guard !raw.isEmpty else { return nil }
        return normalise(raw, order: order)
    }

    /// Spec-inclusive counts to Langfuse's exclusive keys: input without cached and cache-creation
    /// tokens, output without reasoning and audio tokens; anything else kept (`details.` dropped).
    static func normalise(_ raw: [String: Int64], order: [String]) -> JSONObject {
        func take(_ keys: [String]) -> Int64? {
            for key in keys { if let value = raw[key] { return value } }
            return nil
        }
        let inputKeys = ["input_tokens", "prompt_tokens", "prompt", "input"]
        let outputKeys = ["output_tokens", "completion_tokens", "completion", "output"]
        let totalKeys = ["total_tokens", "total"]
        let cacheReadKeys = ["cache_read.input_tokens", "cache_read_input_tokens", "cache_read_tokens", "details.cache_read_input_tokens",
                             "details.cache_read_tokens", "prompt_details.cache_read", "input_cached_tokens", "prompt_tokens_details.cached_tokens"]
        let cacheWriteKeys = ["cache_creation.input_tokens", "cache_creation_input_tokens", "cache_write_tokens",
                              "details.cache_creation_input_tokens", "details.cache_write_tokens", "prompt_details.cache_write"]
        let reasoningKeys = ["reasoning.output_tokens", "reasoning_tokens", "completion_details.reasoning", "details.reasoning_tokens",
                             "output_tokens_details.reasoning_tokens"]
        let audioKeys = ["completion_details.audio", "audio.output_tokens", "details.audio_tokens"]
        let cacheRead = take(cacheReadKeys)
        let cacheWrite = take(cacheWriteKeys)
        let reasoning = take(reasoningKeys)
        let audio = take(audioKeys)
        var out = JSONObject()
        if let input = take(inputKeys) {
            out["input"] = .number(JSONNumber(max(0, input - (cacheRead ?? 0) - (cacheWrite ?? 0))))
        }
        if let output = take(outputKeys) {
            out["output"] = .number(JSONNumber(max(0, output - (reasoning ?? 0) - (audio ?? 0))))
        }
        if let total = take(totalKeys) { out["total"] = .number(JSONNumber(total)) }
        if let cacheRead { out["input_cached_tokens"] = .number(JSONNumber(cacheRead)) }
        if let cacheWrite { out["input_cache_creation"] = .number(JSONNumber(cacheWrite)) }
        if let reasoning { out["output_reasoning_tokens"] = .number(JSONNumber(reasoning)) }
        if let audio { out["output_audio_tokens"] = .number(JSONNumber(audio)) }
        let known = Set(inputKeys + outputKeys + totalKeys + cacheReadKeys + cacheWriteKeys + reasoningKeys + audioKeys)
        for key in order where !known.contains(key) {
            let name = key.hasPrefix("details.") ? String(key.dropFirst(8)) : key
            if out[name] == nil, let value = raw[key] { out[name] = .number(JSONNumber(value)) }
        }
        return out
    }

    static func cost(_ attributes: SpanAttributes) -> JSONObject? {
        if let details = attributes["langfuse.observation.cost_details"]?.object { return details }
        for key in ["gen_ai.usage.cost", "llm.cost.total"] {
            if let value = attributes[key], case .number(let number) = value.parsed { return ["total": .number(number)] }
        }
        return nil
    }

    /// `langfuse.observation.model.parameters` (JSON), else every `gen_ai.request.*` but the model
    /// and OpenInference's `llm.invocation_parameters`, values as strings.
    static func modelParameters(_ attributes: SpanAttributes) -> JSONObject? {
        if let parameters = attributes["langfuse.observation.model.parameters"]?.object { return parameters }
        var out = JSONObject()
        for (suffix, value) in attributes.suffixes(of: "gen_ai.request") where suffix != "model" {
            if let text = value.text { out[suffix] = .string(text) }
        }
        if let invocation = attributes["llm.invocation_parameters"]?.object {
            for (key, value) in invocation {
                out[key] = .string(value.stringValue ?? String(decoding: value.serialized(), as: UTF8.self))
            }
        }
        return out.isEmpty ? nil : out
    }
}
