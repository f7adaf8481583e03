"""The otelfeedback quickstart: trace a small RAG chatbot, then collect feedback on it.

Runs offline on the embedded default store (./otelfeedback-data). Steps follow the human
feedback workflow: 1) trace the app, 2) record end-user feedback, ...
"""

from __future__ import annotations

import otelfeedback

otelfeedback.configure(service_name="quickstart-chatbot")


@otelfeedback.trace(span_type="RETRIEVER")
def retrieve_context(query: str) -> str:
    # Simulated retrieval; in production this searches a vector database.
    if "opentelemetry" in query.lower():
        return "OpenTelemetry is a vendor-neutral standard for traces, metrics and logs."
    return "General information about machine learning and data science."


@otelfeedback.trace(span_type="AGENT")
def my_chatbot(user_question: str) -> str:
    context = retrieve_context(user_question)
    return f"Based on what I know: {context}"


def main() -> None:
    # Step 1: run the app; every call becomes a trace.
    response = my_chatbot("What is OpenTelemetry?")
    trace_id = otelfeedback.get_last_active_trace_id()
    print(f"Response: {response}")
    print(f"Trace ID: {trace_id}")
    otelfeedback.flush()
    config = otelfeedback.get_configuration()
    assert config is not None
    print(f"Traces are in {config.store_path}")


if __name__ == "__main__":
    main()
