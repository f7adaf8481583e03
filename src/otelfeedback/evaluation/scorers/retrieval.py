"""The retrieval judges: they read the documents of the trace's top-level RETRIEVER spans
(a retriever nested inside another retriever does not count).

A retriever's documents come from its outputs: a string is one document; a list gives one
document per item, read from ``page_content``, ``content`` or ``text`` (else the item as
JSON). Results sit on the retriever span (``span_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otelfeedback.assessments.entities import AssessmentError, Feedback
from otelfeedback.errors import InvalidArgumentError
from otelfeedback.evaluation import prompts
from otelfeedback.evaluation.scorers.builtin import check_expected, expected_section
from otelfeedback.evaluation.scorers.judge import LLMJudge
from otelfeedback.store.entities import Span, Trace

TEXT_KEYS = ("page_content", "content", "text")


def top_level_retrievers(trace: Trace) -> list[Span]:
    """RETRIEVER spans with no RETRIEVER above them, in start order."""
    by_id = {s.span_id: s for s in trace.spans}
    found = []
    for span in trace.spans:
        if span.span_type != "RETRIEVER":
            continue
        parent = by_id.get(span.parent_id or "")
        while parent is not None and parent.span_type != "RETRIEVER":
            parent = by_id.get(parent.parent_id or "")
        if parent is None:
            found.append(span)
    return found


def documents(outputs: Any) -> list[str]:
    """The texts of a retriever's outputs (see the module docstring)."""
    if outputs is None:
        return []
    if isinstance(outputs, Mapping) and isinstance(outputs.get("documents"), list):
        outputs = outputs["documents"]
    items = outputs if isinstance(outputs, list) else [outputs]
    texts = []
    for item in items:
        if isinstance(item, Mapping):
            text = next((item[k] for k in TEXT_KEYS if isinstance(item.get(k), str)), None)
            texts.append(text if text is not None else prompts.as_text(item))
        else:
            texts.append(prompts.as_text(item))
    return texts


def context(docs: list[str]) -> str:
    return "\n\n".join(f"[{n}] {doc}" for n, doc in enumerate(docs, 1))


class _RetrievalJudge(LLMJudge):
    def check_row(self, where: str, expectations: Mapping[str, Any], has_trace: bool) -> None:
        if not has_trace:
            raise InvalidArgumentError(
                where,
                f"{type(self).__name__} reads the trace's RETRIEVER spans: evaluate traces, "
                "or give a predict_fn whose calls are traced",
            )

    def retrievers(self, trace: Trace | None) -> list[Span] | Feedback:
        found = top_level_retrievers(trace) if trace is not None else []
        if not found:
            return self.error_feedback(
                AssessmentError("NO_RETRIEVER_SPAN", "the trace has no RETRIEVER span")
            )
        return found


class RetrievalGroundedness(_RetrievalJudge):
    """Is every statement of the response supported by the retrieved documents? One result
    per top-level retriever span."""

    prompt = prompts.GROUNDEDNESS

    def __init__(self, *, name: str = "retrieval_groundedness", model: str | None = None) -> None:
        super().__init__(name=name, model=model)

    def __call__(self, *, outputs: Any, trace: Trace | None = None) -> list[Feedback]:
        spans = self.retrievers(trace)
        if isinstance(spans, Feedback):
            return [spans]
        return [
            self.ask(
                {"context": context(documents(s.outputs)), "response": outputs},
                span_id=s.span_id,
            )
            for s in spans
        ]


class RetrievalRelevance(_RetrievalJudge):
    """Is each retrieved document relevant to the request? One result per document
    (metadata ``chunk_index``) on its retriever span; the metric's mean is the share of
    relevant documents."""

    prompt = prompts.DOCUMENT_RELEVANCE

    def __init__(self, *, name: str = "retrieval_relevance", model: str | None = None) -> None:
        super().__init__(name=name, model=model)

    def __call__(self, *, inputs: Any, trace: Trace | None = None) -> list[Feedback]:
        spans = self.retrievers(trace)
        if isinstance(spans, Feedback):
            return [spans]
        results = []
        for span in spans:
            for index, doc in enumerate(documents(span.outputs)):
                results.append(
                    self.ask(
                        {"request": inputs, "document": doc},
                        span_id=span.span_id,
                        metadata={"chunk_index": index},
                    )
                )
        return results


class RetrievalSufficiency(_RetrievalJudge):
    """Do the documents of the last top-level retriever contain everything the expected
    answer (``expected_response`` or ``expected_facts``) needs?"""

    prompt = prompts.SUFFICIENCY

    def __init__(self, *, name: str = "retrieval_sufficiency", model: str | None = None) -> None:
        super().__init__(name=name, model=model)

    def check_row(self, where: str, expectations: Mapping[str, Any], has_trace: bool) -> None:
        super().check_row(where, expectations, has_trace)
        check_expected(where, expectations, type(self).__name__)

    def __call__(
        self, *, inputs: Any, expectations: Any = None, trace: Trace | None = None
    ) -> list[Feedback]:
        expected = expected_section(expectations, type(self).__name__)
        spans = self.retrievers(trace)
        if isinstance(spans, Feedback):
            return [spans]
        last = spans[-1]
        sections = {"request": inputs, "context": context(documents(last.outputs)), **expected}
        return [self.ask(sections, span_id=last.span_id)]
