"""The otelfeedback quickstart: the human-feedback workflow on a small RAG chatbot.

1. Trace the app: ``@otelfeedback.trace`` on our functions, OpenAI calls traced automatically.
2. An end user gives a thumbs-down; the app's backend records it with ``log_feedback``.
3-4. Look at it, and annotate it, in the browser: ``otelfeedback server``.
5. Send the trace for expert review: label schemas, a labeling session, and the link an
   expert opens in ``otelfeedback server``'s review app (no account, no install).
   ``--expert-labels`` fills in an expert's labels offline instead, so step 6 has them.

Runs offline on the embedded default store (./otelfeedback-data): without ``OPENAI_API_KEY``
the chatbot talks to ``FakeOpenAIServer``, an OpenAI-compatible server on loopback.
"""

from __future__ import annotations

import argparse
import os

import openai

import otelfeedback
import otelfeedback.openai
from otelfeedback import AssessmentSource, AssessmentSourceType
from otelfeedback.labeling import (
    InputCategorical,
    InputText,
    create_label_schema,
    create_labeling_session,
    delete_labeling_session,
    list_labeling_sessions,
)
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


def send_for_expert_review(trace_id: str, expert_labels: bool) -> None:
    """Step 5: what experts are asked, the session, and the link to share."""
    # Define what feedback to collect
    accuracy_schema = create_label_schema(
        name="response_accuracy",
        type="feedback",
        title="Is the response factually accurate?",
        input=InputCategorical(options=["Accurate", "Partially Accurate", "Inaccurate"]),
        overwrite=True,
    )
    ideal_response_schema = create_label_schema(
        name="expected_response",
        type="expectation",
        title="What would be the ideal response?",
        input=InputText(),
        overwrite=True,
    )
    # Session names are unique: a second run of this script starts a fresh session.
    if any(s.name == "quickstart_review" for s in list_labeling_sessions()):
        delete_labeling_session("quickstart_review")
    # Create a labeling session
    labeling_session = create_labeling_session(
        name="quickstart_review",
        label_schemas=[accuracy_schema.name, ideal_response_schema.name],
    )
    # Add your trace to the session: the most recent trace
    traces = otelfeedback.search_traces(max_results=1)
    labeling_session.add_traces(traces)
    # Share with reviewers
    print("Trace sent for review!")
    print(f"Share this link with reviewers: {labeling_session.url}")
    print("  (it opens in `.venv/bin/otelfeedback server`, the review app)")

    if expert_labels:
        # What an expert would submit in the review app, recorded offline.
        labeling_session.submit_labels(
            trace_id,
            reviewer="expert@example.com",
            labels={
                "response_accuracy": "Partially Accurate",
                "expected_response": (
                    "OpenTelemetry is a vendor-neutral standard for traces, metrics and logs: "
                    "SDKs instrument the code, semantic conventions name what is recorded, and "
                    "the Collector receives, processes and exports the data to any backend."
                ),
            },
        )
        print("Expert labels recorded for the trace (as if submitted in the review app)")
        labeled = otelfeedback.search_traces(labeling_session=labeling_session)
        for trace in labeled:
            for assessment in trace.assessments:
                if assessment.source.source_id == "expert@example.com":
                    print(f"  {assessment.kind} {assessment.name} = {assessment.value!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description="The otelfeedback quickstart.")
    parser.add_argument(
        "--expert-labels",
        action="store_true",
        help="fill in an expert's labels offline (instead of opening the review link)",
    )
    args = parser.parse_args()

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

    # Step 5: send the trace for expert review.
    send_for_expert_review(trace_id, args.expert_labels)
    if fake_server is not None:
        fake_server.stop()


if __name__ == "__main__":
    main()
