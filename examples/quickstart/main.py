"""The otelfeedback quickstart: trace a small RAG chatbot, then collect feedback on it.

Runs offline on the embedded default store (./otelfeedback-data). Steps follow the human
feedback workflow: 1) trace the app, 2) record an end user's thumbs-down on the answer, and read
the trace back with its feedback.
"""

from __future__ import annotations

import otelfeedback
from otelfeedback import AssessmentSource, AssessmentSourceType

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
    assert trace_id is not None

    # Step 2: an end user clicks thumbs-down; the app's backend records it.
    otelfeedback.log_feedback(
        trace_id=trace_id,
        name="user_feedback",
        value=False,
        rationale="Missing details about what the project offers",
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="enduser_123"),
    )
    print("End-user feedback recorded!")

    # Read it back: the trace, its spans and its feedback.
    trace = otelfeedback.get_trace(trace_id)
    print(f"Trace {trace.info.name!r}: {len(trace.spans)} spans, status {trace.info.status}")
    for assessment in trace.assessments:
        print(f"  {assessment.name} = {assessment.value!r} ({assessment.rationale})")
    config = otelfeedback.get_configuration()
    assert config is not None
    print(f"Traces and feedback are in {config.store_path}")
    print("Step 3-4: run `.venv/bin/otelfeedback server` and open http://127.0.0.1:5050")


if __name__ == "__main__":
    main()
