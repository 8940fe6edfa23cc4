import Foundation
import SwiftProtobuf
import Testing
import WickJSON
import WickModel
import WickOTLP
import WickOTLPProto

/// OTLP exports to Langfuse events (reference §2): both decoders, the trace events, the attribute
/// table, the observation types, usage normalisation, and the exports refused as a whole.
struct SpanMapperTests {
    static let now: Int64 = 1_764_410_400_000_000

    /// The minimal OTLP/JSON body of reference §2.2.
    static let minimalJSON = #"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"app"}}]},"scopeSpans":[{"scope":{"name":"langfuse-sdk","version":"4.14.3"},"spans":[{"traceId":"5b8aa5a2d2c872e8321cf37308d69df2","spanId":"051581bf3cb55c13","name":"llm-call","kind":1,"startTimeUnixNano":"1735725600000000000","endTimeUnixNano":"1735725601200000000","attributes":[{"key":"langfuse.observation.type","value":{"stringValue":"generation"}},{"key":"langfuse.observation.model.name","value":{"stringValue":"gpt-4o-mini"}},{"key":"langfuse.observation.usage_details","value":{"stringValue":"{\"input\":8,\"output\":2}"}},{"key":"user.id","value":{"stringValue":"u1"}}],"status":{}}]}]}]}"#

    static func events(json: String) throws -> [JSONValue] {
        SpanMapper.events(try OTLPExport(json: Array(json.utf8)), now: now)
    }

    static func events(_ spans: [OTLPSpan], scope: OTLPScope = OTLPScope(name: "app"), resource: [OTLPAttribute] = []) -> [JSONValue] {
        SpanMapper.events(OTLPExport(resourceSpans: [.init(resource: resource, scopeSpans: [.init(scope: scope, spans: spans)])]), now: now)
    }

    static func span(id: String = "00000000000000a1", parent: String? = nil, name: String = "work",
                     _ attributes: [(String, OTLPValue)] = []) -> OTLPSpan {
        OTLPSpan(traceID: "0000000000000000000000000000beef", spanID: id, parentSpanID: parent, name: name,
                 startTimeUnixNano: 1_735_725_600_000_000_000, endTimeUnixNano: 1_735_725_601_000_000_000,
                 attributes: attributes.map { OTLPAttribute($0.0, $0.1) })
    }

    /// The body of the one observation event.
    static func observation(_ events: [JSONValue]) throws -> JSONValue {
        try #require(events.first { $0["type"]?.stringValue != "trace-create" }?["body"])
    }

    @Test func theReferenceExampleBecomesATraceAndAGeneration() throws {
        let events = try Self.events(json: Self.minimalJSON)
        #expect(events.map { $0["type"]?.stringValue } == ["trace-create", "generation-create"])
        let trace = try #require(events[0]["body"])
        #expect(trace["id"]?.stringValue == "5b8aa5a2d2c872e8321cf37308d69df2")
        #expect(trace["name"]?.stringValue == "llm-call" && trace["userId"]?.stringValue == "u1")
        #expect(trace["timestamp"]?.stringValue == "2025-01-01T10:00:00.000000Z")
        let generation = try #require(events[1]["body"])
        #expect(generation["id"]?.stringValue == "051581bf3cb55c13")
        #expect(generation["traceId"] == trace["id"] && generation["parentObservationId"] == nil)
        #expect(generation["model"]?.stringValue == "gpt-4o-mini")
        #expect(generation["usageDetails"] == .object(["input": 8, "output": 2]))
        #expect(generation["endTime"]?.stringValue == "2025-01-01T10:00:01.200000Z")
        // Every event passes the checks any ingested event passes, and its body decodes.
        for event in events {
            let line = event.serialized()
            let decoded = IngestionEvent.decode(line, sequence: 1, receiveTime: Self.now, project: "p")
            #expect((try? decoded.get()) != nil, "\(decoded)")
        }
    }

    @Test func protobufAndJSONDecodeToTheSameExport() throws {
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        var resource = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resource.resource.attributes = [Self.keyValue("service.name", string: "app")]
        var scope = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scope.scope.name = "langfuse-sdk"
        scope.scope.version = "4.14.3"
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data([0x5b, 0x8a, 0xa5, 0xa2, 0xd2, 0xc8, 0x72, 0xe8, 0x32, 0x1c, 0xf3, 0x73, 0x08, 0xd6, 0x9d, 0xf2])
        span.spanID = Data([0x05, 0x15, 0x81, 0xbf, 0x3c, 0xb5, 0x5c, 0x13])
        span.name = "llm-call"
        span.kind = .internal
        span.startTimeUnixNano = 1_735_725_600_000_000_000
        span.endTimeUnixNano = 1_735_725_601_200_000_000
        span.attributes = [
            Self.keyValue("langfuse.observation.type", string: "generation"),
            Self.keyValue("langfuse.observation.model.name", string: "gpt-4o-mini"),
            Self.keyValue("langfuse.observation.usage_details", string: #"{"input":8,"output":2}"#),
            Self.keyValue("user.id", string: "u1"),
        ]
        span.status = Opentelemetry_Proto_Trace_V1_Status()
        scope.spans = [span]
        resource.scopeSpans = [scope]
        request.resourceSpans = [resource]
        let bytes: [UInt8] = try request.serializedBytes()
        let fromProtobuf = try OTLPExport(protobuf: bytes)
        let fromJSON = try OTLPExport(json: Array(Self.minimalJSON.utf8))
        #expect(fromProtobuf == fromJSON)
        #expect(SpanMapper.events(fromProtobuf, now: Self.now) == SpanMapper.events(fromJSON, now: Self.now))
    }

    static func keyValue(_ key: String, string: String) -> Opentelemetry_Proto_Common_V1_KeyValue {
        var keyValue = Opentelemetry_Proto_Common_V1_KeyValue()
        keyValue.key = key
        keyValue.value.stringValue = string
        return keyValue
    }

    @Test func exportsWithBadSpansAreRefusedWithAReason() throws {
        let good = Array(Self.minimalJSON.utf8)
        func refusal(_ body: String) -> String? {
            do {
                _ = try OTLPExport(json: Array(body.utf8))
                return nil
            } catch {
                return error.message
            }
        }
        #expect(refusal(Self.minimalJSON.replacingOccurrences(of: "\"spanId\":\"051581bf3cb55c13\",", with: ""))?.contains("spanId") == true)
        #expect(refusal(Self.minimalJSON.replacingOccurrences(of: "5b8aa5a2d2c872e8321cf37308d69df2", with: "5b8a"))?.contains("traceId") == true)
        #expect(refusal(#"{"resourceSpans":[{"scopeSpans":{"spans":[]}}]}"#)?.contains("not an array") == true)
        #expect(refusal(#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]}]}"#)?.contains("logs export") == true)
        #expect(refusal("{\"resourceSpans\":[") != nil)
        #expect(refusal(#"{"resourceSpans":[]}"#) == nil)
        #expect(try OTLPExport(json: good).spanCount == 1)

        // Protobuf: truncated, and a span without ids.
        let export = try OTLPExport(json: good)
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        var resource = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        var scope = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data(repeating: 7, count: 16)
        span.spanID = Data(repeating: 9, count: 8)
        span.name = String(repeating: "x", count: 200)
        scope.spans = [span]
        resource.scopeSpans = [scope]
        request.resourceSpans = [resource]
        let bytes: [UInt8] = try request.serializedBytes()
        #expect(try OTLPExport(protobuf: bytes).spanCount == 1 && export.spanCount == 1)
        #expect(throws: OTLPDecodeError.self) { try OTLPExport(protobuf: Array(bytes.dropLast(40))) }
        request.resourceSpans[0].scopeSpans[0].spans[0].spanID = Data()
        let missing: [UInt8] = try request.serializedBytes()
        #expect(throws: OTLPDecodeError("resourceSpans[0].scopeSpans[0].spans[0] has no valid spanId (8 bytes, not all zero)")) {
            try OTLPExport(protobuf: missing)
        }
    }

    @Test func childSpansGetAShallowTraceOncePerExportAndTraceAttributesAFullOne() throws {
        let root = Self.span(id: "00000000000000a1", name: "root")
        let child = Self.span(id: "00000000000000a2", parent: "00000000000000a1", name: "child")
        let sibling = Self.span(id: "00000000000000a3", parent: "00000000000000a1", name: "sibling")
        // Children alone: one shallow trace event (id, timestamp), no name.
        let shallow = Self.events([child, sibling])
        #expect(shallow.map { $0["type"]?.stringValue } == ["trace-create", "span-create", "span-create"])
        #expect(shallow[0]["body"]?.objectValue?.keys.sorted() == ["id", "timestamp"])
        // A child carrying trace attributes (propagate_attributes copies them to every span) gives
        // a full trace event, but never names the trace after itself.
        let tagged = Self.span(id: "00000000000000a2", parent: "00000000000000a1", name: "child",
                               [("user.id", .string("u9")), ("langfuse.trace.tags", .array([.string("b"), .string("a")]))])
        let full = Self.events([tagged, sibling, root])
        let traces = full.filter { $0["type"]?.stringValue == "trace-create" }
        #expect(traces.count == 2)
        #expect(traces[0]["body"]?["userId"]?.stringValue == "u9" && traces[0]["body"]?["name"] == nil)
        #expect(traces[0]["body"]?["tags"] == .array(["b", "a"]))
        #expect(traces[1]["body"]?["name"]?.stringValue == "root")
        // Ids follow from the span, so a retried export is the same events.
        #expect(full == Self.events([tagged, sibling, root]))
        #expect(Set(full.compactMap { $0["id"]?.stringValue }).count == full.count)
        // langfuse.internal.as_root makes a span a root: full trace, no parent.
        let promoted = Self.events([Self.span(id: "00000000000000a4", parent: "00000000000000ff", name: "detached",
                                              [("langfuse.internal.as_root", .string("true"))])])
        #expect(promoted[0]["body"]?["name"]?.stringValue == "detached")
        #expect(try Self.observation(promoted)["parentObservationId"] == nil)
    }

    @Test func traceAttributesFollowTheTable() throws {
        let events = Self.events([Self.span(name: "chat", [
            ("langfuse.trace.name", .string("support")),
            ("session.id", .string("s1")),
            ("langfuse.session.id", .string("s0")),
            ("langfuse.tags", .string(#"["x","y"]"#)),
            ("langfuse.trace.public", .string("true")),
            ("langfuse.trace.metadata", .string(#"{"a":1}"#)),
            ("langfuse.trace.metadata.b", .string(#"{"c":2}"#)),
            ("langfuse.trace.input", .string(#"{"q":"hi"}"#)),
            ("langfuse.release", .string("r7")),
            ("langfuse.observation.input", .string(#""obs-in""#)),
        ])], resource: [OTLPAttribute("service.version", .string("3.1")), OTLPAttribute("deployment.environment", .string("prod"))])
        let trace = try #require(events.first?["body"])
        #expect(trace["name"]?.stringValue == "support")
        #expect(trace["sessionId"]?.stringValue == "s0")
        #expect(trace["tags"] == .array(["x", "y"]))
        #expect(trace["public"] == .bool(true))
        #expect(trace["metadata"]?["a"] == 1 && trace["metadata"]?["b"] == .object(["c": 2]))
        #expect(trace["input"] == .object(["q": "hi"]))
        #expect(trace["release"]?.stringValue == "r7" && trace["version"]?.stringValue == "3.1")
        #expect(trace["environment"]?.stringValue == "prod")
        let observation = try Self.observation(events)
        #expect(observation["input"]?.stringValue == "obs-in")
        #expect(observation["environment"]?.stringValue == "prod")
        // Comma-separated and single-string tags.
        let comma = Self.events([Self.span([("langfuse.trace.tags", .string("a, b,c"))])])
        #expect(comma[0]["body"]?["tags"] == .array(["a", "b", "c"]))
    }

    @Test func observationTypesFollowTheDecisionOrder() throws {
        func type(_ attributes: [(String, OTLPValue)], name: String = "work") throws -> String? {
            Self.events([Self.span(name: name, attributes)]).last?["type"]?.stringValue
        }
        #expect(try type([]) == "span-create")
        #expect(try type([("langfuse.observation.type", .string("tool")), ("gen_ai.request.model", .string("m"))]) == "tool-create")
        #expect(try type([("openinference.span.kind", .string("LLM"))]) == "generation-create")
        #expect(try type([("openinference.span.kind", .string("RETRIEVER"))]) == "retriever-create")
        #expect(try type([("gen_ai.operation.name", .string("chat"))]) == "generation-create")
        #expect(try type([("gen_ai.operation.name", .string("embeddings"))]) == "embedding-create")
        #expect(try type([("gen_ai.operation.name", .string("invoke_agent"))]) == "agent-create")
        #expect(try type([("gen_ai.operation.name", .string("execute_tool"))]) == "tool-create")
        #expect(try type([("gen_ai.tool.name", .string("search"))]) == "tool-create")
        #expect(try type([("ai.model.id", .string("gpt-4o"))], name: "ai.generateText.doGenerate") == "generation-create")
        #expect(try type([], name: "ai.toolCall") == "tool-create")
        #expect(try type([("llm.model_name", .string("gpt-4o"))]) == "generation-create")
        #expect(try type([("langfuse.observation.type", .string("event"))]) == "event-create")
        // An event has no end time.
        let event = try Self.observation(Self.events([Self.span([("langfuse.observation.type", .string("event"))])]))
        #expect(event["endTime"] == nil && event["startTime"] != nil)
        // A tool span is named after its tool.
        let tool = try Self.observation(Self.events([Self.span(name: "execute_tool x", [("gen_ai.tool.name", .string("lookup"))])]))
        #expect(tool["name"]?.stringValue == "lookup")
    }

    @Test func genAIUsageIsNormalisedToLangfuseKeys() throws {
        let generation = try Self.observation(Self.events([Self.span([
            ("gen_ai.operation.name", .string("chat")),
            ("gen_ai.request.model", .string("claude-x")),
            ("gen_ai.response.model", .string("claude-x-2025")),
            ("gen_ai.request.temperature", .double(0.5)),
            ("gen_ai.usage.input_tokens", .int(1000)),
            ("gen_ai.usage.cache_read_input_tokens", .int(600)),
            ("gen_ai.usage.cache_creation_input_tokens", .int(100)),
            ("gen_ai.usage.output_tokens", .int(500)),
            ("gen_ai.usage.reasoning_tokens", .int(200)),
            ("gen_ai.usage.cost", .double(0.25)),
        ])]))
        #expect(generation["model"]?.stringValue == "claude-x-2025")
        #expect(generation["modelParameters"] == .object(["temperature": "0.5"]))
        #expect(generation["usageDetails"] == .object(["input": 300, "output": 300, "input_cached_tokens": 600,
                                                       "input_cache_creation": 100, "output_reasoning_tokens": 200]))
        #expect(generation["costDetails"] == .object(["total": 0.25]))
        // OpenInference counts and invocation parameters.
        let openInference = try Self.observation(Self.events([Self.span([
            ("openinference.span.kind", .string("LLM")), ("llm.model_name", .string("gpt-4o")),
            ("llm.token_count.prompt", .int(10)), ("llm.token_count.completion", .int(4)), ("llm.token_count.total", .int(14)),
            ("llm.invocation_parameters", .string(#"{"temperature":0}"#)),
            ("llm.input_messages.0.message.role", .string("user")), ("llm.input_messages.0.message.content", .string("hi")),
            ("llm.output_messages.0.message.role", .string("assistant")), ("llm.output_messages.0.message.content", .string("yo")),
        ])]))
        #expect(openInference["usageDetails"] == .object(["input": 10, "output": 4, "total": 14]))
        #expect(openInference["modelParameters"] == .object(["temperature": "0"]))
        #expect(openInference["input"] == .array([.object(["role": "user", "content": "hi"])]))
        #expect(openInference["output"] == .array([.object(["role": "assistant", "content": "yo"])]))
        // Read keys are not repeated in metadata.attributes.
        let attributes = openInference["metadata"]?["attributes"]?.objectValue?.keys ?? []
        #expect(!attributes.contains("llm.input_messages.0.message.content") && attributes.contains("llm.model_name"))
    }

    @Test func levelsStatusAndCompletionStart() throws {
        let failed = OTLPSpan(traceID: "0000000000000000000000000000beef", spanID: "00000000000000a1", name: "x",
                              startTimeUnixNano: 1_735_725_600_000_000_000, statusCode: 2, statusMessage: "boom")
        let body = try Self.observation(Self.events([failed]))
        #expect(body["level"]?.stringValue == "ERROR" && body["statusMessage"]?.stringValue == "boom")
        // No end time: the start stands in.
        #expect(body["endTime"] == body["startTime"])
        let warned = try Self.observation(Self.events([Self.span([
            ("langfuse.observation.type", .string("generation")),
            ("langfuse.observation.level", .string("WARNING")),
            ("langfuse.observation.completion_start_time", .string(#""2025-01-01T10:00:00.250000Z""#)),
            ("langfuse.observation.prompt.name", .string("greet")), ("langfuse.observation.prompt.version", .int(3)),
        ])]))
        #expect(warned["level"]?.stringValue == "WARNING")
        #expect(warned["completionStartTime"]?.stringValue == "2025-01-01T10:00:00.250000Z")
        #expect(warned["promptName"]?.stringValue == "greet" && warned["promptVersion"] == 3)
    }
}
