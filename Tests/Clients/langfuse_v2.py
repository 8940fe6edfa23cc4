"""Langfuse's Python SDK v2, unchanged, pointed at a Wick daemon (LANGFUSE_HOST and the keys come
from the environment). Makes one trace through the decorators and one by hand, flushes, and prints
their ids as JSON for the test to look up."""
import json

from langfuse import Langfuse
from langfuse.decorators import langfuse_context, observe


@observe()
def retrieve(question):
    return ["Wick keeps every trace.", "Compaction prices them."]


@observe(as_type="generation")
def answer(question, documents):
    langfuse_context.update_current_observation(
        model="gpt-4o",
        model_parameters={"temperature": 0.2},
        usage={"input": 1200, "output": 300, "unit": "TOKENS"},
        metadata={"documents": len(documents)},
    )
    return "It keeps them."


@observe()
def pipeline(question):
    documents = retrieve(question)
    reply = answer(question, documents)
    langfuse_context.update_current_trace(name="rag", user_id="user-7", session_id="session-3", tags=["sdk-v2", "test"])
    langfuse_context.score_current_trace(name="quality", value=0.9, comment="good")
    return reply, langfuse_context.get_current_trace_id()


reply, decorated = pipeline("What does Wick keep?")
langfuse_context.flush()

client = Langfuse()
trace = client.trace(name="manual", user_id="user-8", input={"q": "hi"})
span = trace.span(name="prepare", input="hi")
span.end(output="prepared")
generation = trace.generation(name="call", model="gpt-4o-mini", input=[{"role": "user", "content": "hi"}],
                              usage={"input": 500, "output": 50}, parent_observation_id=span.id)
generation.end(output="hello")
trace.update(output={"a": "hello"})
trace.score(name="correct", value=1, data_type="BOOLEAN")
trace.score(name="tone", value="friendly", data_type="CATEGORICAL")
trace.score(name="latency-ok", value=0.75, data_type="NUMERIC")
generation.score(name="relevance", value=0.5)
client.flush()
print(json.dumps({"decorated": decorated, "manual": trace.id, "generation": generation.id, "reply": reply}))
