"""Step 6 of the human-feedback tutorial: evaluate the app against the experts' answers.

1-2. The chatbot answers and is traced; an end user gives a thumbs-down.
5.   An expert says what the ideal answer is (``expected_response``) and how accurate the
     app's answer was (``response_accuracy``) — here logged directly; a labeling session's
     review app records the same assessments.
6.   ``evaluate()`` calls the chatbot again on the labeled traces and a ``Correctness`` judge
     compares its answers with the experts'; then the same judge scores the answers the
     experts saw, and ``alignment`` says how often judge and expert agree.

Runs offline on ./otelfeedback-data: without ``OPENAI_API_KEY``, ``FakeOpenAIServer`` is both
the chatbot's model and the judge (its default rule compares key words).
"""

from __future__ import annotations

import os

import openai

import otelfeedback
import otelfeedback.openai
from otelfeedback import AssessmentSource, AssessmentSourceType
from otelfeedback.scorers import Correctness, RelevanceToQuery
from otelfeedback.testing import FakeOpenAIServer, RecordedRequest, Reply

otelfeedback.configure(service_name="evaluation-example")
otelfeedback.openai.autolog()

QUESTIONS = {
    "What is OpenTelemetry?": (
        "OpenTelemetry is a vendor-neutral standard for traces, metrics and logs, with SDKs "
        "and the Collector to route the data."
    ),
    "What is a span?": "A span is one timed operation of a trace, with attributes and events.",
}
#: The offline model: version 1 answers the span question badly; version 2 answers both well.
offline = {"version": 1}


def offline_model(request: RecordedRequest) -> Reply:
    prompt = str(request.body["messages"][-1]["content"])
    question = next(q for q in QUESTIONS if q in prompt)
    if offline["version"] == 1 and "span" in question:
        return Reply("It is a thing for software.")
    return Reply(QUESTIONS[question])


fake = None
if os.environ.get("OPENAI_API_KEY"):
    client = openai.OpenAI()
else:
    fake = FakeOpenAIServer(default=offline_model).start()
    os.environ["OPENAI_BASE_URL"] = fake.base_url  # where the judges go
    client = openai.OpenAI(base_url=fake.base_url, api_key="offline")


@otelfeedback.trace(span_type="RETRIEVER")
def retrieve_context(query: str) -> str:
    return "OpenTelemetry: traces, metrics and logs; spans are timed operations of a trace."


@otelfeedback.trace(span_type="AGENT")
def my_chatbot(user_question: str) -> str:
    context = retrieve_context(user_question)
    response = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Use the provided context to answer."},
            {"role": "user", "content": f"Context: {context}\n\nQuestion: {user_question}"},
        ],
    )
    return response.choices[0].message.content or ""


def main() -> None:
    expert = AssessmentSource(AssessmentSourceType.HUMAN, "expert_1")
    # Steps 1-2 and 5: the app answers; an expert labels each answer.
    for question, ideal in QUESTIONS.items():
        my_chatbot(question)
        trace_id = otelfeedback.get_last_active_trace_id()
        assert trace_id is not None
        otelfeedback.log_expectation(trace_id, "expected_response", ideal, source=expert)
        accurate = "span" not in question
        otelfeedback.log_feedback(
            trace_id,
            "response_accuracy",
            "Accurate" if accurate else "Inaccurate",
            rationale="Matches the docs." if accurate else "Says nothing about spans.",
            source=expert,
        )

    # Step 6, as in the tutorial.
    labeled_traces = otelfeedback.search_traces("expectation.expected_response IS NOT NULL")
    offline["version"] = 2  # the improved chatbot
    eval_results = otelfeedback.evaluate(
        data=labeled_traces,
        predict_fn=my_chatbot,
        scorers=[Correctness(), RelevanceToQuery()],
        name="chatbot v2",
    )
    print(f"Run {eval_results.run_id}: {eval_results.metrics}")
    for row in eval_results.rows:
        verdicts = ", ".join(f"{f.name}={f.value}" for f in row.results)
        print(f"  {row.inputs['user_question']!r}: {verdicts}")

    # Is the judge to be trusted? Score the answers the expert saw, and compare.
    judged = otelfeedback.evaluate(data=labeled_traces, scorers=[Correctness()], name="judge check")
    report = otelfeedback.evaluation.alignment(
        judge="correctness",
        human="response_accuracy",
        mapping={"Accurate": "yes", "Partially Accurate": "no", "Inaccurate": "no"},
        run_id=judged.run_id,
    )
    print(
        f"Judge vs. expert: n={report.n}, agreement={report.agreement:.0%}, "
        f"judge {report.judge_model} prompt {report.prompt_hash}"
    )
    print("Browse the runs: `.venv/bin/otelfeedback server`, then Evaluations")
    if fake is not None:
        fake.stop()


if __name__ == "__main__":
    main()
