"""A realistic store for the triage tests: 200 traces of a support agent over the last hours.

Agent roots with a long system prompt and a conversation, LLM calls with GenAI attributes
(model, parameters, tokens), tool calls and their tool spans, retrievers with scored
documents, 17 KB inputs, questions in many languages (7 mention 東京, 8 carry 🚀), failures
with exceptions, 90 thumbs, judge scores with rationales, text labels and expectations.
Spans are OTLP/JSON lines as any SDK writes them; assessments go through the SDK.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from otelfeedback.api.assessments import log_expectation, log_feedback, writing_to
from otelfeedback.assessments import AssessmentSource, AssessmentSourceType
from otelfeedback.store import FileStore
from tests.store.otlp_fixtures import T0, append, io_attrs, line, sid, span

SYSTEM = (
    "You are the support assistant of Parcelo, a parcel delivery company. Answer in the "
    "customer's language, be brief, never invent tracking numbers. "
) * 40
LONG_CONTEXT = "Order history: " + " | ".join(f"order {n}: delivered" for n in range(900))
QUESTIONS = [
    "Where is my parcel?",
    "Can I change the delivery address?",
    "Mon colis est-il arrivé à l'école ?",
    "Wo ist mein Paket? Die Straße ist gesperrt.",
    "Где моя посылка?",
    "我的包裹在哪里？",
    "أين طردي؟",
    "¿Dónde está mi paquete?",
]
TOKYO = "東京への配送はいつですか？"
ROCKET = "Launch day 🚀 is my parcel on the way?"
JUDGE_RATIONALE = (
    "The answer matches the carrier's status; it omits the expected delivery window the "
    "customer asked about, which a careful agent would have included from the tool result."
)
NAMES = (
    "user_feedback",
    "correctness",
    "relevance",
    "groundedness",
    "safety",
    "tone",
    "expected_response",
)


@dataclass
class Realistic:
    store: Path
    trace_ids: list[str] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    tokyo: set[str] = field(default_factory=set)
    rocket: set[str] = field(default_factory=set)
    thumbs_down: set[str] = field(default_factory=set)
    llm_span: dict[str, str] = field(default_factory=dict)  # trace id -> its first LLM span
    sessions: dict[str, str] = field(default_factory=dict)
    questions: dict[str, str] = field(default_factory=dict)

    def asking(self, text: str) -> set[str]:
        """The traces whose question contains ``text``."""
        return {t for t, q in self.questions.items() if text in q}


def _question(n: int) -> str:
    if n % 27 == 3 and n < 27 * 7:
        return TOKYO
    if n % 23 == 5 and n < 23 * 8:
        return ROCKET
    return QUESTIONS[n % len(QUESTIONS)]


def _trace_spans(n: int, trace_id: str, start_ms: float, question: str) -> list[dict[str, Any]]:
    root, llm, tool, retriever, final = (sid(n * 10 + k) for k in range(1, 6))
    failed = n % 10 == 7
    long_input = n % 40 == 11
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": (LONG_CONTEXT + "\n\n") if long_input else ""},
        {"role": "assistant", "content": "How can I help?"},
        {"role": "user", "content": question},
    ]
    if not long_input:
        messages.pop(1)
    answer = f"Your parcel #{1000 + n} is in Lyon and arrives tomorrow."
    call = {
        "id": f"call_{n}",
        "type": "function",
        "function": {"name": "get_order_status", "arguments": json.dumps({"order_id": 1000 + n})},
    }
    model = ["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet"][n % 3]
    llm_attrs = io_attrs(
        "LLM",
        {"messages": messages, "model": model},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        **{
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": model,
            "gen_ai.response.model": f"{model}-2024-08-06",
            "gen_ai.request.temperature": 0.2,
            "gen_ai.request.max_tokens": 512,
            "gen_ai.usage.input_tokens": 1200 + n,
            "gen_ai.usage.output_tokens": 40 + n % 50,
            "gen_ai.response.finish_reasons": ["tool_calls"],
        },
    )
    docs = {
        f"retrieval.documents.{i}.document.{k}": v
        for i in range(3)
        for k, v in (
            ("id", f"kb-{i + n % 7}"),
            ("content", f"Delivery policy {i}: parcels to the city centre take {i + 1} days."),
            ("score", round(0.91 - i * 0.17, 2)),
        )
    }
    tool_events = (
        [
            {
                "timeUnixNano": str(T0 + int((start_ms + 300) * 1e6)),
                "name": "exception",
                "attributes": [
                    {"key": "exception.type", "value": {"stringValue": "TimeoutError"}},
                    {"key": "exception.message", "value": {"stringValue": "carrier API timed out"}},
                ],
            }
        ]
        if failed
        else None
    )
    root_attrs = io_attrs(
        "AGENT",
        {"messages": messages},
        None if failed else {"role": "assistant", "content": answer},
        **{
            "session.id": f"session-{n % 30}",
            "user.id": f"customer-{n % 45}",
            "otelfeedback.trace.tags": json.dumps({"env": "prod", "version": f"1.{n % 4}"}),
        },
    )
    return [
        span(
            trace_id,
            root,
            "support_agent",
            start_ms=start_ms,
            duration_ms=900 + n * 7 % 2500,
            attrs=root_attrs,
            status=2 if failed else 0,
        ),
        span(
            trace_id,
            retriever,
            "search_kb",
            parent=root,
            start_ms=start_ms + 5,
            duration_ms=60,
            attrs=io_attrs("RETRIEVER", question, None, **docs),
        ),
        span(
            trace_id,
            llm,
            "openai.chat",
            parent=root,
            start_ms=start_ms + 70,
            duration_ms=420,
            attrs=llm_attrs,
        ),
        span(
            trace_id,
            tool,
            "get_order_status",
            parent=root,
            start_ms=start_ms + 500,
            duration_ms=250,
            attrs=io_attrs(
                "TOOL", {"order_id": 1000 + n}, None if failed else {"status": "in transit"}
            ),
            status=2 if failed else 0,
            events=tool_events,
        ),
        *(
            []
            if failed
            else [
                span(
                    trace_id,
                    final,
                    "openai.chat",
                    parent=root,
                    start_ms=start_ms + 760,
                    duration_ms=130,
                    attrs=io_attrs(
                        "LLM",
                        {"messages": messages},
                        answer,
                        **{
                            "gen_ai.request.model": model,
                            "gen_ai.usage.input_tokens": 1500,
                            "gen_ai.usage.output_tokens": 30,
                        },
                    ),
                )
            ]
        ),
    ]


def seed_realistic(path: Path, count: int = 200) -> Realistic:
    """Write ``count`` traces (newest first, 90 s apart, ending now) and their assessments."""
    now_ms = (time.time_ns() - T0) / 1e6
    seeded = Realistic(path)
    lines = []
    for n in range(count):
        trace_id = hashlib.md5(f"trace-{n}".encode()).hexdigest()
        question = _question(n)
        lines.append(
            line(
                _trace_spans(n, trace_id, now_ms - n * 90_000 - 5_000, question),
                service="parcelo-support",
            )
        )
        seeded.trace_ids.append(trace_id)
        seeded.llm_span[trace_id] = sid(n * 10 + 2)
        seeded.sessions[trace_id] = f"session-{n % 30}"
        seeded.questions[trace_id] = question
        if n % 10 == 7:
            seeded.failed.add(trace_id)
        if question == TOKYO:
            seeded.tokyo.add(trace_id)
        if question == ROCKET:
            seeded.rocket.add(trace_id)
    append(path, "".join(lines))
    store = FileStore(path)
    judge = AssessmentSource(AssessmentSourceType.LLM_JUDGE, "gpt-4o-judge")
    with writing_to(store, service_name="seed"):
        for n, trace_id in enumerate(seeded.trace_ids):
            if n % 20 < 9:  # 90 thumbs
                up = n % 3 != 0
                log_feedback(
                    trace_id,
                    "user_feedback",
                    up,
                    source=AssessmentSource(AssessmentSourceType.HUMAN, f"customer-{n % 45}"),
                )
                if not up:
                    seeded.thumbs_down.add(trace_id)
            if n % 2 == 0:
                log_feedback(
                    trace_id,
                    "correctness",
                    round(0.5 + (n % 5) / 10, 2),
                    rationale=JUDGE_RATIONALE,
                    source=judge,
                    span_id=seeded.llm_span[trace_id],
                )
            if n % 4 == 0:
                log_feedback(
                    trace_id,
                    "relevance",
                    "relevant" if n % 8 else "partially relevant",
                    source=judge,
                )
            if n % 6 == 0:
                log_feedback(trace_id, "groundedness", n % 12 == 0, source=judge)
            if n % 9 == 0:
                log_feedback(trace_id, "safety", True, source=judge)
            if n % 11 == 0:
                log_feedback(trace_id, "tone", 1234567.5 if n == 0 else 4, source=judge)
            if n % 5 == 0:
                log_expectation(
                    trace_id,
                    "expected_response",
                    f"Parcel #{1000 + n} is in Lyon; delivery tomorrow 9-12h.",
                )
    store.close()
    return seeded
