"""The built-in LLM judges on a row's request and response. Each answers "yes" or "no"
with a rationale (the retrieval judges are in ``retrieval.py``).

>>> Correctness().name, Safety(name="safe").name
('correctness', 'safe')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from otelfeedback.assessments.entities import Feedback
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.evaluation import prompts
from otelfeedback.evaluation.scorers.judge import LLMJudge

EXPECTED = ("expected_response", "expected_facts")


def bullets(items: str | Sequence[Any]) -> str:
    """A string as it is; a list as ``- item`` lines."""
    if isinstance(items, str):
        return items
    return "\n".join(f"- {prompts.as_text(item)}" for item in items)


def expected_section(expectations: Mapping[str, Any] | None, scorer: str) -> dict[str, Any]:
    """``{"expected_response": ...}`` or ``{"expected_facts": "- ..."}`` (the response wins).

    Raises:
        InvalidArgumentError: neither is there.
    """
    expectations = expectations or {}
    if expectations.get("expected_response") is not None:
        return {"expected_response": expectations["expected_response"]}
    facts = expectations.get("expected_facts")
    if facts:
        return {"expected_facts": bullets(facts)}
    raise InvalidArgumentError(
        "expectations", f"{scorer} needs an 'expected_response' or 'expected_facts' expectation"
    )


def check_expected(where: str, expectations: Mapping[str, Any], scorer: str) -> None:
    if expectations.get("expected_response") is None and not expectations.get("expected_facts"):
        raise InvalidArgumentError(
            where,
            f"{scorer} needs an 'expected_response' or 'expected_facts' expectation; this row "
            f"has {sorted(expectations) or 'none'}",
        )


class Correctness(LLMJudge):
    """Does the response give the expected answer (``expected_response``, or every one of
    ``expected_facts``)? Extra correct detail is fine; missing or contradicted facts are not.

    Raises (when called without either expectation): ``InvalidArgumentError``.
    """

    prompt = prompts.CORRECTNESS

    def __init__(self, *, name: str = "correctness", model: str | None = None) -> None:
        super().__init__(name=name, model=model)

    def check_row(self, where: str, expectations: Mapping[str, Any], has_trace: bool) -> None:
        check_expected(where, expectations, type(self).__name__)

    def __call__(self, *, inputs: Any, outputs: Any, expectations: Any = None) -> Feedback:
        expected = expected_section(expectations, type(self).__name__)
        return self.ask({"request": inputs, "response": outputs, **expected})


class RelevanceToQuery(LLMJudge):
    """Does the response address the request (whether or not it is right)?"""

    prompt = prompts.RELEVANCE_TO_QUERY

    def __init__(self, *, name: str = "relevance_to_query", model: str | None = None) -> None:
        super().__init__(name=name, model=model)

    def __call__(self, *, inputs: Any, outputs: Any) -> Feedback:
        return self.ask({"request": inputs, "response": outputs})


class Safety(LLMJudge):
    """Is the response free of harmful content (violence, self-harm, hate, weapons...)?"""

    prompt = prompts.SAFETY

    def __init__(self, *, name: str = "safety", model: str | None = None) -> None:
        super().__init__(name=name, model=model)

    def __call__(self, *, outputs: Any) -> Feedback:
        return self.ask({"response": outputs})


def _check_guidelines(guidelines: Any, argument: str) -> str | list[str]:
    if isinstance(guidelines, str) and guidelines.strip():
        return guidelines
    if (
        isinstance(guidelines, (list, tuple))
        and guidelines
        and all(isinstance(g, str) and g.strip() for g in guidelines)
    ):
        return list(guidelines)
    raise InvalidArgumentError(
        argument, f"expected a non-empty string or list of strings, got {guidelines!r:.80}"
    )


class Guidelines(LLMJudge):
    """Does the response follow every one of the same ``guidelines`` (a string or a list)
    for each row? "yes" when all are met or none applies.

    Raises:
        InvalidArgumentError: empty guidelines.
    """

    prompt = prompts.GUIDELINES

    def __init__(
        self,
        guidelines: str | Sequence[str],
        *,
        name: str = "guidelines",
        model: str | None = None,
    ) -> None:
        self.guidelines = _check_guidelines(guidelines, "guidelines")
        super().__init__(name=name, model=model)

    def __call__(self, *, inputs: Any, outputs: Any) -> Feedback:
        return self.ask(
            {"guidelines": bullets(self.guidelines), "request": inputs, "response": outputs}
        )

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "guidelines": self.guidelines}


class ExpectationsGuidelines(LLMJudge):
    """Like ``Guidelines``, with each row's own guidelines (its ``guidelines``
    expectation)."""

    prompt = prompts.GUIDELINES

    def __init__(self, *, name: str = "expectations_guidelines", model: str | None = None) -> None:
        super().__init__(name=name, model=model)

    def check_row(self, where: str, expectations: Mapping[str, Any], has_trace: bool) -> None:
        if not expectations.get("guidelines"):
            raise InvalidArgumentError(
                where, "ExpectationsGuidelines needs a 'guidelines' expectation"
            )

    def __call__(self, *, inputs: Any, outputs: Any, expectations: Any = None) -> Feedback:
        guidelines = _check_guidelines(
            (expectations or {}).get("guidelines"), "expectations.guidelines"
        )
        return self.ask({"guidelines": bullets(guidelines), "request": inputs, "response": outputs})
