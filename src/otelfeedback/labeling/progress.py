"""A session's items with each reviewer's state, and its progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from otelfeedback.labeling.board import DONE, Board, Review
from otelfeedback.store.base import TraceStore

if TYPE_CHECKING:
    from otelfeedback.labeling.sessions import LabelingSession


@dataclass(frozen=True)
class LabelingItem:
    """One trace of a session.

    Attributes:
        trace_id: the trace.
        position: 1, 2, 3... in the order items were added.
        state: ``done`` (labeled by ``reviewers_per_item`` reviewers), ``in_progress``
            (by fewer) or ``pending`` (by nobody yet).
        reviews: reviewer -> their ``Review`` (``done`` with labels, or ``skipped``).
    """

    trace_id: str
    position: int
    state: str
    reviews: dict[str, Review] = field(default_factory=dict)
    added_time_ms: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "position": self.position,
            "state": self.state,
            "added_time_ms": self.added_time_ms,
            "reviews": {name: r.to_dict() for name, r in sorted(self.reviews.items())},
        }


@dataclass(frozen=True)
class ReviewerProgress:
    done: int
    skipped: int


@dataclass(frozen=True)
class Progress:
    """Counts of items by state, and what each reviewer has done.

    Attributes:
        total: items in the session.
        done / in_progress / pending: items by state (see ``LabelingItem``).
        reviewers_per_item: reviewers needed for an item to be done.
        reviewers: reviewer -> ``ReviewerProgress(done, skipped)``.
    """

    total: int
    done: int
    in_progress: int
    pending: int
    reviewers_per_item: int
    reviewers: dict[str, ReviewerProgress] = field(default_factory=dict)

    @property
    def fraction_done(self) -> float:
        return self.done / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "done": self.done,
            "in_progress": self.in_progress,
            "pending": self.pending,
            "reviewers_per_item": self.reviewers_per_item,
            "reviewers": {
                name: {"done": p.done, "skipped": p.skipped}
                for name, p in sorted(self.reviewers.items())
            },
        }


def load_board(store: TraceStore, session: LabelingSession) -> Board:
    return Board(session.labeling_session_id).refresh(store)


def items_of(
    store: TraceStore, session: LabelingSession, board: Board | None = None
) -> list[LabelingItem]:
    board = board or load_board(store, session)
    required = session.reviewers_per_item
    with board.lock:
        return [
            LabelingItem(
                trace_id=trace_id,
                position=rank + 1,
                state=board.state(trace_id, required),
                reviews=dict(board.reviews.get(trace_id, {})),
                added_time_ms=board.items[trace_id].added_time_ms,
            )
            for rank, trace_id in enumerate(board.order)
        ]


def progress_of(
    store: TraceStore, session: LabelingSession, board: Board | None = None
) -> Progress:
    board = board or load_board(store, session)
    required = session.reviewers_per_item
    with board.lock:
        states = [board.state(t, required) for t in board.order]
        reviewers = {name: ReviewerProgress(*board.counts_for(name)) for name in board.reviewers()}
    return Progress(
        total=len(states),
        done=states.count(DONE),
        in_progress=states.count("in_progress"),
        pending=states.count("pending"),
        reviewers_per_item=required,
        reviewers=reviewers,
    )
