"""How ``FakeOpenAIServer`` answers an LLM judge: recognise a judge request, read its tagged
sections, and give a verdict (from the test's hook, else a deterministic default rule).

A **judge request** is a chat completion that asks for structured output whose JSON schema
has the properties ``result`` and ``rationale`` (what otelfeedback's judges send). The
material to judge is wrapped in tags — ``<request>``, ``<response>``, ``<expected_response>``,
``<expected_facts>``, ``<context>``, ``<document>``, ``<guidelines>`` — which become
``JudgeRequest.sections``.

The default rule compares *content words* (lowercase letters and digits, at least four long,
common words left out):

- an ``expected_*`` section: "yes" when at least half of its content words appear in the
  ``context`` (if any) else the ``response``; ``expected_facts`` are checked one bullet at a
  time and all must pass;
- ``context`` and ``response``: "yes" when at least half of the response's content words
  appear in the context (grounded);
- ``document``: "yes" when it shares a content word with the ``request``;
- ``guidelines``: "yes" when the response is not empty;
- ``request`` and ``response``: "yes" when they share a content word (relevant);
- ``response`` alone: "no" when it contains one of a few alarming words (``UNSAFE_WORDS``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_TAG = re.compile(r"<([a-z][a-z_]*)>\n?(.*?)\n?</\1>", re.S)
_WORD = re.compile(r"[a-z0-9]+")
_COMMON = frozenset(
    {
        "that",
        "this",
        "with",
        "from",
        "have",
        "what",
        "which",
        "when",
        "where",
        "your",
        "about",
        "into",
        "there",
        "their",
        "they",
        "them",
        "will",
        "would",
        "should",
        "could",
        "been",
        "being",
        "were",
        "does",
        "also",
        "than",
        "then",
        "these",
        "those",
        "some",
        "such",
        "more",
        "most",
        "very",
        "just",
        "only",
        "over",
        "other",
        "each",
        "many",
        "much",
        "make",
        "made",
        "like",
        "used",
        "uses",
    }
)
#: Words that make the default rule call a response unsafe.
UNSAFE_WORDS = frozenset({"bomb", "kill", "weapon", "hate", "suicide", "poison"})


@dataclass(frozen=True)
class Verdict:
    """A judge's answer: a value (``"yes"``/``"no"``, a bool, a number...) and why."""

    value: Any
    rationale: str = ""


@dataclass(frozen=True)
class JudgeRequest:
    """A judge request as the fake server saw it.

    Attributes:
        model: the requested model.
        system: the system message's text.
        prompt: the user message's text.
        sections: the tagged sections of every message, by tag name.
        schema: the JSON schema of the answer.
        body: the whole request body.
    """

    model: str
    system: str
    prompt: str
    sections: Mapping[str, str]
    schema: Mapping[str, Any]
    body: Mapping[str, Any] = field(repr=False, default_factory=dict)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def judge_schema(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The answer schema of a judge request, or None when ``body`` is not one."""
    fmt = body.get("response_format")
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return None
    schema = (fmt.get("json_schema") or {}).get("schema")
    props = schema.get("properties") if isinstance(schema, dict) else None
    if isinstance(props, dict) and "result" in props and "rationale" in props:
        return schema
    return None


def parse_request(body: Mapping[str, Any], schema: Mapping[str, Any]) -> JudgeRequest:
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    system = "\n".join(_text(m.get("content")) for m in messages if m.get("role") == "system")
    prompt = "\n".join(_text(m.get("content")) for m in messages if m.get("role") != "system")
    sections = {name: text.strip() for name, text in _TAG.findall(system + "\n" + prompt)}
    return JudgeRequest(str(body.get("model") or ""), system, prompt, sections, schema, body)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) >= 4 and w not in _COMMON}


def _coverage(needed: str, text: str) -> float:
    words = _words(needed)
    return 1.0 if not words else len(words & _words(text)) / len(words)


def default_verdict(request: JudgeRequest) -> Verdict:
    """The deterministic default rule (see the module docstring)."""
    s = request.sections
    response = s.get("response", "")
    if "expected_facts" in s or "expected_response" in s:
        subject_name = "context" if "context" in s else "response"
        subject = s.get(subject_name, "")
        if "expected_response" in s:
            claims = [s["expected_response"]]
        else:
            claims = [c.strip("-• ").strip() for c in s["expected_facts"].splitlines()]
        missing = [c for c in claims if c and _coverage(c, subject) < 0.5]
        if missing:
            return Verdict("no", f"The {subject_name} does not cover: {missing[0][:200]}")
        return Verdict("yes", f"The {subject_name} covers what was expected.")
    if "context" in s and "response" in s:
        share = _coverage(response, s["context"])
        if share >= 0.5:
            return Verdict("yes", f"{share:.0%} of the response's key words are in the context.")
        return Verdict("no", f"Only {share:.0%} of the response's key words are in the context.")
    if "document" in s:
        if _words(s["document"]) & _words(s.get("request", "")):
            return Verdict("yes", "The document shares key words with the request.")
        return Verdict("no", "The document shares no key word with the request.")
    if "guidelines" in s:
        if response.strip():
            return Verdict("yes", "The response is not empty; the guidelines are assumed met.")
        return Verdict("no", "The response is empty.")
    if "request" in s and "response" in s:
        if _words(response) & _words(s["request"]):
            return Verdict("yes", "The response shares key words with the request.")
        return Verdict("no", "The response shares no key word with the request.")
    flagged = sorted(_words(response) & UNSAFE_WORDS)
    if flagged:
        return Verdict("no", f"The response contains {flagged[0]!r}.")
    return Verdict("yes", "Nothing in the response is flagged.")


def _fit(value: Any, schema: Mapping[str, Any]) -> Any:
    """``value`` in the type the schema's ``result`` asks for (yes/no ↔ bool ↔ 1/0)."""
    spec = (schema.get("properties") or {}).get("result") or {}
    kind = spec.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    positive = value is True or (isinstance(value, str) and value.lower() in ("yes", "true"))
    negative = value is False or (isinstance(value, str) and value.lower() in ("no", "false"))
    if "boolean" in kinds and (positive or negative):
        return positive
    if ("integer" in kinds or "number" in kinds) and (positive or negative):
        return 1 if positive else 0
    enum = spec.get("enum")
    if isinstance(enum, list) and enum and value not in enum:
        same = [e for e in enum if str(e).lower() == str(value).lower()]
        if same:
            return same[0]
        if positive or negative:
            wanted = "yes" if positive else "no"
            match = next((e for e in enum if str(e).lower() == wanted), None)
            if match is not None:
                return match
    return value  # what the hook said, even outside the schema (a misbehaving judge)


def verdict_content(verdict: Verdict, schema: Mapping[str, Any]) -> str:
    """The JSON text the fake model answers with."""
    answer = {"rationale": verdict.rationale, "result": _fit(verdict.value, schema)}
    return json.dumps(answer, ensure_ascii=False)
