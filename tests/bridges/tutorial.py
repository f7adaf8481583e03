"""The tutorial's steps 1 and 2, written as a user writes them with otelfeedback: a traced RAG
chatbot whose OpenAI call goes to ``FakeOpenAIServer``, then an end user's thumbs-down."""

from __future__ import annotations

from openai import OpenAI

import otelfeedback
from otelfeedback import AssessmentSource, AssessmentSourceType, Feedback

MODEL = "gpt-4o-mini"
QUESTION = "What is MLflow?"
ANSWER = (
    "MLflow is an open-source platform for managing the machine learning lifecycle: "
    "experiment tracking, packaging and deployment."
)
RATIONALE = "Missing details about MLflow's key features like Projects and Model Registry"


client: OpenAI | None = None  # set by the test, as the tutorial sets it up front


@otelfeedback.trace(span_type="RETRIEVER")
def retrieve_context(query: str) -> str:
    if "mlflow" in query.lower():
        return (
            "MLflow is an open-source platform for managing the end-to-end machine "
            "learning lifecycle."
        )
    return "General information about machine learning and data science."


@otelfeedback.trace
def my_chatbot(user_question: str) -> str:
    assert client is not None
    context = retrieve_context(user_question)
    response = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": f"Context: {context}\n\nQuestion: {user_question}"},
        ],
        temperature=0.7,
        max_tokens=150,
    )
    return response.choices[0].message.content or ""


def step_1(base_url: str) -> str:
    """Step 1: run the traced app once (its OpenAI client talks to ``base_url``); the
    trace id."""
    global client
    otelfeedback.instrument_openai()
    client = OpenAI(base_url=base_url, api_key="offline", max_retries=0)
    try:
        assert my_chatbot(QUESTION) == ANSWER
    finally:
        client.close()
        otelfeedback.uninstrument_openai()
    trace_id = otelfeedback.get_last_active_trace_id()
    assert trace_id is not None
    return trace_id


def end_user_feedback(trace_id: str) -> Feedback:
    """Step 2: the end user's thumbs-down, recorded by the app's backend."""
    return otelfeedback.log_feedback(
        trace_id=trace_id,
        name="user_feedback",
        value=False,
        rationale=RATIONALE,
        source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="enduser_123"),
    )
