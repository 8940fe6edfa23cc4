import WickJSON

/// An observation's input and output from a span (reference §2.5): Langfuse's own attributes
/// first, then what the common instrumentations write. The keys it read are left out of the
/// observation's `metadata.attributes`.
struct SpanIO {
    var input: JSONValue?
    var output: JSONValue?
    var consumed: Set<String> = []

    init(_ span: OTLPSpan, _ attributes: SpanAttributes) {
        input = take(attributes, "langfuse.observation.input")
        output = take(attributes, "langfuse.observation.output")
        if input == nil, output == nil { genAI(span, attributes) }
        if input == nil, output == nil { indexed(attributes) }
        for (inKey, outKey) in Self.pairs where input == nil && output == nil {
            input = take(attributes, inKey)
            output = take(attributes, outKey)
        }
        if input == nil, output == nil { vercel(attributes) }
    }

    private static let pairs = [("input.value", "output.value"), ("traceloop.entity.input", "traceloop.entity.output"),
                                ("mlflow.spanInputs", "mlflow.spanOutputs"), ("gen_ai.tool.call.arguments", "gen_ai.tool.call.result")]

    private mutating func take(_ attributes: SpanAttributes, _ key: String) -> JSONValue? {
        guard let value = attributes[key] else { return nil }
        consumed.insert(key)
        return value.parsed
    }

    /// OTel GenAI: message attributes (system instructions first), else the message span events.
    private mutating func genAI(_ span: OTLPSpan, _ attributes: SpanAttributes) {
        if var messages = take(attributes, "gen_ai.input.messages") {
            if let instructions = take(attributes, "gen_ai.system_instructions"), case .array(let list) = messages {
                messages = .array([["role": "system", "content": instructions]] + list)
            }
            input = messages
        }
        output = take(attributes, "gen_ai.output.messages")
        guard input == nil, output == nil else { return }
        var inputs: [JSONValue] = []
        var outputs: [JSONValue] = []
        for event in span.events where event.name.hasPrefix("gen_ai.") {
            let body = JSONValue.object(JSONObject(event.attributes.map { ($0.key, $0.value.parsed) }))
            if event.name == "gen_ai.choice" {
                outputs.append(body)
            } else if event.name.hasSuffix(".message") {
                let role = event.name.dropFirst(7).dropLast(8)
                var object = body.objectValue ?? JSONObject()
                if object["role"] == nil { object["role"] = .string(String(role)) }
                inputs.append(.object(object))
            }
        }
        if !inputs.isEmpty { input = .array(inputs) }
        if !outputs.isEmpty { output = outputs.count == 1 ? outputs[0] : .array(outputs) }
    }

    /// Indexed message attributes (`gen_ai.prompt.0.role`, `llm.input_messages.0.message.content`)
    /// rebuilt into arrays of objects.
    private mutating func indexed(_ attributes: SpanAttributes) {
        input = rebuild(attributes, "gen_ai.prompt") ?? rebuild(attributes, "llm.input_messages")
        output = rebuild(attributes, "gen_ai.completion") ?? rebuild(attributes, "llm.output_messages")
    }

    private mutating func rebuild(_ attributes: SpanAttributes, _ prefix: String) -> JSONValue? {
        var items: [Int: JSONObject] = [:]
        for (suffix, value) in attributes.suffixes(of: prefix) {
            guard let dot = suffix.firstIndex(of: "."), let index = Int(suffix[..<dot]), index >= 0, index < 10_000 else { continue }
            var field = String(suffix[suffix.index(after: dot)...])
            if field.hasPrefix("message.") { field.removeFirst(8) }
            items[index, default: JSONObject()][field] = value.parsed
            consumed.insert(prefix + "." + suffix)
        }
        guard !items.isEmpty else { return nil }
        return .array(items.keys.sorted().map { .object(items[$0]!) })
    }

    /// Vercel's AI SDK.
    private mutating func vercel(_ attributes: SpanAttributes) {
        input = take(attributes, "ai.prompt.messages") ?? take(attributes, "ai.prompt") ?? take(attributes, "ai.toolCall.args")
        output = take(attributes, "ai.response.text") ?? take(attributes, "ai.response.object")
            ?? take(attributes, "ai.response.toolCalls") ?? take(attributes, "ai.toolCall.result")
    }
}
