"""``LLMJudge``: a scorer that asks a model, and ``make_judge`` for your own judges.

A judge's result is a feedback with source ``LLM_JUDGE`` / the model's URI and metadata
naming the model, the prompt's hash and the scorer. When the call fails (after the client's
retries), times out, is refused or answers something unreadable, the result is an error
feedback with the same source and a ``JUDGE_*`` error code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from otelfeedback import semconv as sc
from otelfeedback.assessments.entities import AssessmentError, AssessmentSource, Feedback
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.evaluation import judges
from otelfeedback.evaluation.prompts import JudgePrompt, as_text
from otelfeedback.evaluation.scorers.base import Scorer
from otelfeedback.evaluation.verdicts import JudgeError, ValueSpec
from otelfeedback.semconv import AssessmentSourceType


class LLMJudge(Scorer):
    """Base of the LLM judges: ``ask`` sends a prompt with tagged sections to the model.

    Args:
        name: the feedback name.
        model: ``"openai:/<model>"``; default ``configure(judge_model=...)`` or the
            ``OTELFEEDBACK_JUDGE_MODEL`` setting, read when the judge first runs.
    """

    kind = "llm_judge"
    prompt: JudgePrompt

    def __init__(self, *, name: str | None = None, model: str | None = None) -> None:
        super().__init__(name)
        self._model_spec = model
        self._model: judges.JudgeModel | None = None
        if model is not None:
            self._model = judges.parse_model(model)
        self._endpoint: judges.Endpoint | None = None

    @property
    def model(self) -> judges.JudgeModel:
        if self._model is None:
            self._model = judges.parse_model(None)
        return self._model

    @property
    def judge_model(self) -> str:
        return self.model.uri

    @property
    def prompt_hash(self) -> str:
        return self.prompt.hash

    @property
    def source(self) -> AssessmentSource:
        return AssessmentSource(AssessmentSourceType.LLM_JUDGE, self.judge_model)

    def metadata(self) -> dict[str, Any]:
        return {
            sc.SCORER: self.name,
            sc.JUDGE_MODEL: self.judge_model,
            sc.PROMPT_HASH: self.prompt_hash,
        }

    def prepare(self) -> None:
        _ = self.model
        self._endpoint = judges.resolve_endpoint()
        judges.client_for(self._endpoint)

    def ask(
        self,
        sections: Mapping[str, Any],
        prompt: JudgePrompt | None = None,
        *,
        task: str | None = None,
        **extra: Any,
    ) -> Feedback:
        """One judge call on ``sections`` (tag → value); its verdict as a feedback, or an
        error feedback when the call fails. ``task`` replaces the prompt's task text (a
        template filled in); the hash stays the template's."""
        prompt = prompt or self.prompt
        messages = prompt.messages(sections, task)
        try:
            with judges.judge_span(self.name, self.model, prompt.hash, messages) as span:
                endpoint = self._endpoint or judges.resolve_endpoint()
                value, rationale = judges.complete(self.model, messages, prompt.spec, endpoint)
                if span is not None:
                    span.set_outputs({"result": value, "rationale": rationale})
        except JudgeError as exc:
            return self.error_feedback(AssessmentError(exc.code, str(exc)), **extra)
        return self.feedback(value, rationale, **extra)


_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
PLACEHOLDERS = ("inputs", "outputs", "expectations")


class InstructionsJudge(LLMJudge):
    """A judge made by ``make_judge`` from instructions with placeholders."""

    def __init__(
        self,
        name: str,
        instructions: str,
        *,
        model: str | None = None,
        feedback_value_type: Any = None,
    ) -> None:
        if not isinstance(instructions, str) or not instructions.strip():
            raise InvalidArgumentError("instructions", "expected a non-empty string")
        used = _PLACEHOLDER.findall(instructions)
        unknown = sorted({p for p in used if p not in PLACEHOLDERS})
        if unknown:
            raise InvalidArgumentError(
                "instructions",
                f"unknown placeholder {{{{ {unknown[0]} }}}}; use "
                + ", ".join(f"{{{{ {p} }}}}" for p in PLACEHOLDERS),
            )
        if not used:
            raise InvalidArgumentError(
                "instructions",
                "use at least one of " + ", ".join(f"{{{{ {p} }}}}" for p in PLACEHOLDERS),
            )
        self.instructions = instructions
        self.prompt = JudgePrompt(instructions, ValueSpec.of(feedback_value_type))
        self.placeholders = tuple(p for p in PLACEHOLDERS if p in used)
        super().__init__(name=name, model=model)
        self.fields = self.placeholders

    def __call__(
        self, *, inputs: Any = None, outputs: Any = None, expectations: Any = None
    ) -> Feedback:
        values = {"inputs": inputs, "outputs": outputs, "expectations": expectations or {}}
        task = _PLACEHOLDER.sub(
            lambda m: f"<{m.group(1)}>\n{as_text(values[m.group(1)])}\n</{m.group(1)}>",
            self.instructions,
        )
        return self.ask({}, task=task)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "instructions": self.instructions}


def make_judge(
    name: str,
    instructions: str,
    *,
    model: str | None = None,
    feedback_value_type: Any = None,
) -> InstructionsJudge:
    """A custom LLM judge from instructions with ``{{ inputs }}``, ``{{ outputs }}`` and
    ``{{ expectations }}`` placeholders (each replaced by the row's value, in tags).

    Example::

        tone = make_judge(
            "polite",
            "Is the answer {{ outputs }} to {{ inputs }} polite?",
            feedback_value_type=bool,
        )

    Args:
        name: the feedback name.
        instructions: the task, with at least one placeholder.
        model: ``"openai:/<model>"`` (default: the configured judge model).
        feedback_value_type: ``bool``, ``int``, ``float``, ``str`` or ``Literal[...]``;
            default ``"yes"``/``"no"``.

    Raises:
        InvalidArgumentError: an unknown placeholder (``{{ trace }}`` included), none at
            all, or an unsupported value type.
    """
    return InstructionsJudge(
        name, instructions, model=model, feedback_value_type=feedback_value_type
    )
