import WickModel

/// Which observation type a span becomes (reference §2.6, Langfuse's ObservationTypeMapper): the
/// first rule that gives one wins, SPAN otherwise.
enum ObservationTypeDecision {
    static let modelKeys = ["langfuse.observation.model.name", "gen_ai.request.model", "gen_ai.response.model",
                            "llm.model_name", "model"]

    static func type(of span: OTLPSpan, attributes: SpanAttributes, scope: OTLPScope, resource: SpanAttributes) -> ObservationType {
        let declared = attributes.string("langfuse.observation.type")
        // Rule 0: Python SDK ≤ 3.3 marked generations as spans when they carried generation fields.
        if declared == "span", scope.name == "langfuse-sdk", resource.string("telemetry.sdk.language") == "python",
           isAtMost3_3(scope.version), attributes.has("langfuse.observation.model.name") || attributes.has("langfuse.observation.usage_details") {
            return .generation
        }
        if let declared, let type = ObservationType(rawValue: declared.uppercased()) { return type }
        if let kind = attributes.string("openinference.span.kind")?.uppercased() {
            switch kind {
            case "LLM": return .generation
            case "CHAIN": return .chain
            case "RETRIEVER": return .retriever
            case "EMBEDDING": return .embedding
            case "AGENT": return .agent
            case "TOOL": return .tool
            case "GUARDRAIL": return .guardrail
            case "EVALUATOR": return .evaluator
            default: break
            }
        }
        switch attributes.string("gen_ai.operation.name") {
        case "chat", "completion", "text_completion", "generate_content", "generate": return .generation
        case "embeddings": return .embedding
        case "invoke_agent", "create_agent": return .agent
        case "execute_tool": return .tool
        default: break
        }
        switch attributes.string("genkit:metadata:subtype") {
        case "model": return .generation
        case "embedder": return .embedding
        case "tool": return .tool
        case "retriever": return .retriever
        case "evaluator": return .evaluator
        default: break
        }
        let hasModel = modelKeys.contains(where: attributes.has) || attributes.has("ai.model.id")
        for prefix in ["ai.generateText.doGenerate", "ai.streamText.doStream", "ai.generateObject.doGenerate", "ai.streamObject.doStream"]
        where span.name.hasPrefix(prefix) && hasModel {
            return .generation
        }
        if span.name.hasPrefix("ai.embed"), span.name.contains(".doEmbed") { return .embedding }
        if span.name.hasPrefix("ai.toolCall") { return .tool }
        if attributes.has("gen_ai.tool.name") || attributes.has("gen_ai.tool.call.id") { return .tool }
        if modelKeys.contains(where: attributes.has) { return .generation }
        return .span
    }

    private static func isAtMost3_3(_ version: String) -> Bool {
        let parts = version.split(separator: ".").prefix(2).map { Int($0.prefix(while: \.isNumber)) ?? 0 }
        guard let major = parts.first else { return false }
        return major < 3 || (major == 3 && (parts.count < 2 || parts[1] <= 3))
    }
}
