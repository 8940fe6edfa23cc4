"""Langfuse's current Python SDK (v5, OpenTelemetry underneath), unchanged, pointed at a Wick daemon
(LANGFUSE_BASE_URL and the keys come from the environment). Makes a trace of nested @observe
functions with a generation, trace attributes through propagate_attributes, scores on the trace
and on the generation, and a second trace by hand; flushes, and prints the ids as JSON."""
import json

from langfuse import get_client, observe, propagate_attributes

langfuse = get_client()


@observe()
def retrieve(question):
    return ["Wick keeps every trace.", "Compaction prices them."]


@observe(as_type="generation")
def answer(question, documents):
    langfuse.update_current_generation(
        model="gpt-4o",
        model_parameters={"temperature": 0.2, "max_tokens": 256},
        usage_details={"input": 1200, "output": 300},
        metadata={"documents": len(documents)},
    )
    langfuse.score_current_span(name="relevance", value=0.5)
    return "It keeps them.", langfuse.get_current_observation_id()


@observe(name="rag")
def pipeline(question):
    with propagate_attributes(user_id="user-7", session_id="session-3", tags=["sdk-v5", "otel"]):
        documents = retrieve(question)
        reply, generation = answer(question, documents)
        langfuse.score_current_trace(name="quality", value=0.9, comment="good")
        langfuse.score_current_trace(name="correct", value=1, data_type="BOOLEAN")
        langfuse.score_current_trace(name="tone", value="friendly", data_type="CATEGORICAL")
        return reply, generation, langfuse.get_current_trace_id()


reply, generation, decorated = pipeline("What does Wick keep?")

with langfuse.start_as_current_observation(as_type="span", name="manual", input={"q": "hi"}) as root:
    with langfuse.start_as_current_observation(as_type="generation", name="call", model="gpt-4o-mini",
                                               input=[{"role": "user", "content": "hi"}]) as call:
        call.update(output="hello", usage_details={"input": 500, "output": 50})
    root.update(output={"a": "hello"})
    manual = langfuse.get_current_trace_id()

langfuse.flush()
print(json.dumps({"decorated": decorated, "generation": generation, "manual": manual, "reply": reply}))
