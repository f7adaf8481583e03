"""The otelfeedback quickstart: the human-feedback workflow on a small RAG chatbot.

1. Trace the app: ``@otelfeedback.trace`` on our functions, OpenAI calls traced automatically.
2. An end user gives a thumbs-down; the app's backend records it with ``log_feedback``.
3-4. Look at it, and annotate it, in the browser: ``otelfeedback server``.

Runs offline on the embedded default store (./otelfeedback-data): without ``OPENAI_API_KEY``
the chatbot talks to ``FakeOpenAIServer``, an OpenAI-compatible server on loopback.
"""

from __future__ import annotations

import os

import openai

import otelfeedback
import otelfeedback.openai
from otelfeedback import AssessmentSource, AssessmentSourceType
from otelfeedback.testing import FakeOpenAIServer

otelfeedback.configure(service_name="quickstart-chatbot")
otelfeedback.openai.autolog()  # Step 1: every OpenAI call becomes an LLM span

fake_server = None
if os.environ.get("OPENAI_API_KEY"):
    client = openai.OpenAI()
else:
    fake_server = FakeOpenAIServer().start()
    fake_server.reply(
        "OpenTelemetry is an open standard for collecting traces, metrics and logs from "
        "your services and sending them to the backend of your choice."
    )
    client = openai.OpenAI(base_url=fake_server.base_url, api_key="offline")
model_name = "gpt-4o-mini"


@otelfeedback.trace(span_type="RETRIEVER")
def retrieve_context(query: str) -> str:
    # Simulated retrieval; in production this searches a vector database.
    if "opentelemetry" in query.lower():
        return (
            "OpenTelemetry is a vendor-neutral standard and toolkit for traces, metrics and "
            "logs, with SDKs in many languages and the Collector to route the data."
        )
    return "General information about machine learning and data science."


@otelfeedback.trace(span_type="AGENT")
def my_chatbot(user_question: str) -> str:
    context = retrieve_context(user_question)
    response = client.chat.completions.create(
        model=model_name,
        messages=[
            {
                "role": "system",
                "content": "You are a helpful assistant. Use the provided context to answer.",
            },
            {"role": "user", "content": f"Context: {context}\n\nQuestion: {user_question}"},
        ],
        temperature=0.7,
        max_tokens=150,
    )
    return response.choices[0].message.content or ""


def main() -> None:
    # Step 1: run the app; every call becomes a trace.
    response = my_chatbot("What is OpenTelemetry?")
    trace_id = otelfeedback.get_last_active_trace_id()
    print(f"Response: {response}")
    print(f"Trace ID: {trace_id}")
    assert trace_id is not None

    # Step 2: an end user clicks thumbs-down; the app's backend records it.
    otelfeedback.log_feedback(
        trace_id=trace_id,
        name="user_feedback",
        value=False,
        rationale="Missing details about the Collector and the semantic conventions",
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="enduser_123"),
    )
    print("End-user feedback recorded!")

    # Read it back: the trace, its spans and its feedback.
    trace = otelfeedback.get_trace(trace_id)
    print(f"Trace {trace.info.name!r}: {len(trace.spans)} spans, status {trace.info.status}")
    for span in trace.spans:
        print(f"  {span.span_type:<10} {span.name}")
    for assessment in trace.assessments:
        print(f"  {assessment.name} = {assessment.value!r} ({assessment.rationale})")
    config = otelfeedback.get_configuration()
    assert config is not None
    print(f"Traces and feedback are in {config.store_path}")
    print("Steps 3-4: run `.venv/bin/otelfeedback server` and open http://127.0.0.1:5050:")
    print("  open the trace to see user_feedback = false in its assessments; pick any span")
    print("  and use 'Add new assessment' to annotate it (new names become table columns).")
    if fake_server is not None:
        fake_server.stop()


if __name__ == "__main__":
    main()
