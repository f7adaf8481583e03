"""``evaluate()``: score an app's answers with judges and code, as a recorded run.

Everything that can be checked is checked before the first call: the data, ``predict_fn``'s
parameters against every row's inputs, what each scorer needs of each row, the judges' model
and server. Then rows go through two bounded pools — predicting (``predict_fn``, one trace per
row) and scoring (one task per row and scorer, so at most ``max_workers`` judge calls are in
flight) — as a pipeline: a row is scored as soon as its prediction is back. Each result is
logged as feedback on the row's trace; the run and its rows go to the records store.
"""

from __future__ import annotations

import contextvars
import datetime
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from typing import Any

from otelfeedback import config
from otelfeedback import semconv as sc
from otelfeedback.api._store import active_store
from otelfeedback.api.assessments import log_feedback
from otelfeedback.api.traces import get_trace
from otelfeedback.assessments.entities import AssessmentError, Feedback
from otelfeedback.errors import InvalidArgumentError, OtelFeedbackError
from otelfeedback.evaluation import data as rows_of
from otelfeedback.evaluation import judges, runs
from otelfeedback.evaluation.predict import Prediction, Predictor, close_row, record_row
from otelfeedback.evaluation.progress import Progress
from otelfeedback.evaluation.result import EvaluationResult, RowResult, compute_metrics
from otelfeedback.evaluation.scorers.base import Scorer
from otelfeedback.store.entities import Trace
from otelfeedback.tracing import using_metadata


def _check_scorers(scorers: Any) -> list[Scorer]:
    if isinstance(scorers, Scorer) or not isinstance(scorers, Sequence):
        raise InvalidArgumentError("scorers", "expected a list of scorers, e.g. [Correctness()]")
    names: set[str] = set()
    for i, item in enumerate(scorers):
        if not isinstance(item, Scorer):
            hint = " (decorate a function with @scorer)" if callable(item) else ""
            raise InvalidArgumentError(
                f"scorers[{i}]", f"expected a Scorer, got {type(item).__name__}{hint}"
            )
        if item.name in names:
            raise InvalidArgumentError(
                f"scorers[{i}]", f"two scorers are named {item.name!r}; give one a name="
            )
        names.add(item.name)
    return list(scorers)


def _check_workers(max_workers: Any) -> int:
    workers = config.resolve("eval_max_workers", max_workers)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidArgumentError("max_workers", f"expected an int >= 1, got {workers!r}")
    return workers


class _RowState:
    """A row on its way through the pipeline."""

    def __init__(self, row: rows_of.Row, prediction: Prediction, scorers: int) -> None:
        self.row = row
        self.prediction = prediction
        self.results: list[list[Feedback]] = [[] for _ in range(scorers)]
        self.remaining = scorers
        self.lock = threading.Lock()
        self._trace: Trace | None = None

    @property
    def trace_id(self) -> str | None:
        return self.prediction.trace_id

    def trace(self, fresh: bool) -> Trace:
        """The row's trace with its spans: the given one, else read from the store."""
        with self.lock:
            if self._trace is None:
                given = self.row.trace
                if not fresh and given is not None and given.spans:
                    self._trace = given
                elif self.trace_id is None:
                    raise InvalidArgumentError("trace", "the row has no trace")
                else:
                    self._trace = get_trace(self.trace_id)
            return self._trace


class _Run:
    """One ``evaluate`` call in progress."""

    def __init__(
        self, run_id: str, scorers: list[Scorer], predictor: Predictor | None, bar: Progress
    ) -> None:
        self.run_id = run_id
        self.scorers = scorers
        self.predictor = predictor
        self.bar = bar
        self.trace_judges = bool(config.resolve("eval_trace_judges"))
        self.reads_traces = any("trace" in s.fields for s in scorers)

    def predict(self, row: rows_of.Row) -> _RowState:
        if self.predictor is not None:
            prediction = self.predictor(row, self.run_id)
        elif row.trace is not None:
            prediction = Prediction(row.trace.trace_id, row.outputs)
        else:
            prediction = record_row(row, self.run_id, keep_open=not self.reads_traces)
        return _RowState(row, prediction, len(self.scorers))

    def score(self, state: _RowState, index: int) -> None:
        scorer = self.scorers[index]
        try:
            results = contextvars.Context().run(self._run_scorer, state, scorer)
            state.results[index] = [self._record(state, f) for f in results]
        finally:
            with state.lock:
                state.remaining -= 1
                done = state.remaining == 0
            if done:
                close_row(state.prediction)
                self.bar.advance()

    def _run_scorer(self, state: _RowState, scorer: Scorer) -> list[Feedback]:
        row = state.row
        trace = None
        if "trace" in scorer.fields:
            try:
                trace = state.trace(fresh=self.predictor is not None)
            except OtelFeedbackError as exc:
                error = AssessmentError("TRACE_UNAVAILABLE", f"cannot read the row's trace: {exc}")
                return [scorer.error_feedback(error)]
        metadata = {sc.JUDGE_RUN_ID: self.run_id}
        if state.trace_id is not None:
            metadata[sc.JUDGE_TARGET_TRACE] = state.trace_id
        judges.tracing_judges.set(self.trace_judges)  # this context only (a fresh one)
        with using_metadata(metadata):
            return scorer.run(
                inputs=row.inputs,
                outputs=state.prediction.outputs,
                expectations=row.expectations,
                trace=trace,
            )

    def _record(self, state: _RowState, feedback: Feedback) -> Feedback:
        """Log one result on the row's trace; a result that cannot be logged stays in the
        run with an error saying why."""
        feedback.metadata = {**(feedback.metadata or {}), sc.RUN_ID: self.run_id}
        feedback.trace_id = state.trace_id
        if state.trace_id is None:
            feedback.error = AssessmentError("RECORD_ERROR", "the row has no trace")
            return feedback
        given = state.row.trace if self.predictor is None else None
        span_id = feedback.span_id or (given.info.root_span_id if given else None)
        try:
            return log_feedback(
                state.trace_id,
                feedback.name,
                feedback.value,
                feedback.rationale,
                feedback.source,
                span_id,
                feedback.metadata,
                feedback.error,
            )
        except OtelFeedbackError as exc:
            feedback.error = AssessmentError("RECORD_ERROR", f"could not log the result: {exc}")
            return feedback

    def execute(self, rows: list[rows_of.Row], workers: int) -> list[_RowState]:
        states: list[_RowState | None] = [None] * len(rows)
        scoring: list[Future[None]] = []
        with ThreadPoolExecutor(workers, "otelfeedback-score") as score_pool:

            def dispatch(index: int, state: _RowState) -> None:
                states[index] = state
                if state.prediction.error is not None or not self.scorers:
                    close_row(state.prediction)
                    self.bar.advance()
                    return
                scoring.extend(
                    score_pool.submit(self.score, state, i) for i in range(len(self.scorers))
                )

            try:
                if self.predictor is None:
                    for i, row in enumerate(rows):
                        dispatch(i, self.predict(row))
                else:
                    with ThreadPoolExecutor(workers, "otelfeedback-predict") as predict_pool:
                        pending = {
                            predict_pool.submit(self.predict, r): i for i, r in enumerate(rows)
                        }
                        for done in as_completed(pending):
                            dispatch(pending[done], done.result())
                for future in wait(scoring).done:
                    future.result()  # a bug of ours surfaces here
            except BaseException:
                score_pool.shutdown(wait=False, cancel_futures=True)
                for state in states:
                    if state is not None:
                        close_row(state.prediction)
                raise
        return [s for s in states if s is not None]


def evaluate(
    data: Any,
    *,
    scorers: Sequence[Scorer],
    predict_fn: Callable[..., Any] | None = None,
    name: str | None = None,
    max_workers: int | None = None,
    progress: bool | None = None,
) -> EvaluationResult:
    """Score an app with judges and code scorers, as a recorded evaluation run.

    Example::

        labeled = otelfeedback.search_traces("expectation.expected_response IS NOT NULL")
        result = otelfeedback.evaluate(
            data=labeled, predict_fn=my_chatbot, scorers=[Correctness()]
        )
        result.metrics["correctness/mean"]

    Args:
        data: traces (a list or a ``search_traces`` DataFrame), rows (dicts or a DataFrame
            with ``inputs``, optional ``outputs``, ``expectations``, ``tags``) or a dataset.
        scorers: ``Scorer`` objects: built-in judges, ``make_judge(...)``, ``@scorer``
            functions.
        predict_fn: called as ``predict_fn(**inputs)`` per row (sync or async), each call
            traced and tied to the run; without it, the given outputs are scored.
        name: the run's name (default: ``predict_fn``'s name and the time).
        max_workers: rows predicted at once and scorer calls at once (default 10,
            ``OTELFEEDBACK_EVAL_MAX_WORKERS``).
        progress: show a progress bar (default: in a terminal or notebook, not in CI).

    Returns:
        An ``EvaluationResult``: ``run_id``, ``metrics``, ``rows``, ``passed``,
        ``to_pandas()``.

    Raises:
        InvalidArgumentError: empty data, a row without inputs or outputs to score, inputs
            that do not fit ``predict_fn``, a row lacking what a scorer needs, bad scorers.
        ConfigurationError: the judges have no API key or server.
        MissingExtraError: an LLM judge without the ``openai`` extra.
    """
    scorer_list = _check_scorers(scorers)
    rows, source = rows_of.load(data)
    predictor = Predictor(predict_fn) if predict_fn is not None else None
    if predictor is not None:
        predictor.check(rows)
    for row in rows:
        if predictor is None and row.trace is None and row.outputs is rows_of.MISSING:
            raise InvalidArgumentError(
                f"{row.where}.outputs", "nothing to score: give outputs, traces or a predict_fn"
            )
        has_trace = predictor is not None or row.trace is not None
        for scorer_ in scorer_list:
            scorer_.check_row(row.where, row.expectations, has_trace)
    workers = _check_workers(max_workers)
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise InvalidArgumentError("name", f"expected a non-empty string, got {name!r}")
    for scorer_ in scorer_list:
        scorer_.prepare()

    run_id = uuid.uuid4().hex
    started = time.time_ns() // 1_000_000
    moment = datetime.datetime.fromtimestamp(started / 1000, datetime.timezone.utc)
    run_name = name or f"{predictor.name if predictor else source.type} {moment:%Y-%m-%d %H:%M:%S}"
    header: dict[str, Any] = {
        "name": run_name,
        "status": "running",
        "created_time_ms": started,
        "data_source": source.to_dict(),
        "predict_fn": predictor.name if predictor else None,
        "scorers": [s.describe() for s in scorer_list],
        "row_count": len(rows),
    }
    store = active_store(required=False)
    if store is not None:
        runs.write_run(store, run_id, runs.json_safe(header), [])
    try:
        with Progress(len(rows), f"evaluate {run_name!r}", show=progress) as bar:
            states = _Run(run_id, scorer_list, predictor, bar).execute(rows, workers)
    except BaseException as exc:
        if store is not None:
            failed = {**header, "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            runs.write_run(store, run_id, runs.json_safe(failed), [])
        raise
    result = _result(run_id, run_name, scorer_list, states)
    if store is not None:
        finished = {
            **header,
            "status": "finished",
            "finished_time_ms": time.time_ns() // 1_000_000,
            "metrics": result.metrics,
            "errors": result.errors,
            "passed_count": sum(result.passed),
        }
        runs.write_run(store, run_id, runs.json_safe(finished), [_run_row(r) for r in result.rows])
    return result


def _result(
    run_id: str, name: str, scorers: list[Scorer], states: list[_RowState]
) -> EvaluationResult:
    aggregations: dict[str, tuple[str, ...]] = {}
    errors: dict[str, int] = {}
    rows = []
    for state in sorted(states, key=lambda s: s.row.index):
        results: list[Feedback] = []
        for scorer_, found in zip(scorers, state.results):
            for feedback in found:
                aggregations.setdefault(feedback.name, scorer_.aggregations)
                if feedback.error is not None:
                    errors[scorer_.name] = errors.get(scorer_.name, 0) + 1
            results.extend(found)
        error = state.prediction.error
        if error is not None:
            errors["predict_fn"] = errors.get("predict_fn", 0) + 1
        row = state.row
        rows.append(
            RowResult(
                row.index,
                state.trace_id,
                row.inputs,
                state.prediction.outputs,
                row.expectations,
                results,
                error.error_message if error else None,
                row.dataset_record_id,
            )
        )
    return EvaluationResult(run_id, name, compute_metrics(rows, aggregations), rows, errors)


def _run_row(row: RowResult) -> runs.RunRow:
    return runs.RunRow(
        index=row.index,
        trace_id=row.trace_id,
        key=runs.inputs_key(row.inputs),
        inputs=runs.preview(row.inputs),
        outputs=runs.preview(row.outputs),
        expectations=runs.preview(row.expectations),
        results=[runs.result_dict(f) for f in row.results],
        error=row.error,
        passed=row.passed,
        dataset_record_id=row.dataset_record_id,
    )
