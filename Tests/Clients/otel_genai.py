"""The OpenTelemetry Python SDK with its OTLP/HTTP exporter, pointed at a Wick daemon's OTLP endpoint
(OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_HEADERS come from the environment), making spans
with the GenAI semantic-convention attributes and no Langfuse code at all: an agent span, a chat
call and an embeddings call under it, and a tool call. Prints the trace id as JSON."""
import json

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

provider = TracerProvider(resource=Resource.create({"service.name": "support-bot", "deployment.environment.name": "staging"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("support-bot.agent", "1.2.0")

with tracer.start_as_current_span("invoke_agent support") as agent:
    agent.set_attribute("gen_ai.operation.name", "invoke_agent")
    agent.set_attribute("user.id", "user-42")
    agent.set_attribute("session.id", "conv-9")
    with tracer.start_as_current_span("chat claude-sonnet-4") as chat:
        chat.set_attribute("gen_ai.operation.name", "chat")
        chat.set_attribute("gen_ai.system", "anthropic")
        chat.set_attribute("gen_ai.request.model", "claude-sonnet-4-20250514")
        chat.set_attribute("gen_ai.response.model", "claude-sonnet-4-20250514")
        chat.set_attribute("gen_ai.request.temperature", 0.3)
        chat.set_attribute("gen_ai.request.max_tokens", 1024)
        chat.set_attribute("gen_ai.usage.input_tokens", 2000)
        chat.set_attribute("gen_ai.usage.output_tokens", 400)
        chat.set_attribute("gen_ai.input.messages", json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Where is my order?"}]}]))
        chat.set_attribute("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "It ships today."}]}]))
    with tracer.start_as_current_span("execute_tool lookup_order") as tool:
        tool.set_attribute("gen_ai.operation.name", "execute_tool")
        tool.set_attribute("gen_ai.tool.name", "lookup_order")
        tool.set_attribute("gen_ai.tool.call.arguments", json.dumps({"order": 17}))
        tool.set_attribute("gen_ai.tool.call.result", json.dumps({"status": "packed"}))
    with tracer.start_as_current_span("embeddings text-embedding-3-small") as embed:
        embed.set_attribute("gen_ai.operation.name", "embeddings")
        embed.set_attribute("gen_ai.request.model", "text-embedding-3-small")
        embed.set_attribute("gen_ai.usage.input_tokens", 300)
        embed.set_status(Status(StatusCode.ERROR, "rate limited"))
    trace_id = format(agent.get_span_context().trace_id, "032x")

provider.force_flush()
provider.shutdown()
print(json.dumps({"trace": trace_id}))
