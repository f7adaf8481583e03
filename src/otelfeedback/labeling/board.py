"""A session's items and reviews in memory, kept up to date incrementally.

``Board.refresh(store)`` reads only the item and review records written since the last
refresh (``list_records(changed_after=...)``), so the review app's pages cost a few small
queries however large the session. Items are ordered by the position they were added at.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from otelfeedback.labeling._store import ITEM_KIND, REVIEW_KIND
from otelfeedback.store.base import TraceStore
from otelfeedback.store.records import Record

DONE = "done"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Review:
    """One reviewer's state on one item: ``done`` (labels submitted) or ``skipped``.

    Attributes:
        labels: schema name -> the answer (only answered schemas).
        comments: schema name -> the comment given with the answer.
        version: 1 for the first submission, +1 for each relabeling.
    """

    trace_id: str
    reviewer: str
    state: str
    labels: dict[str, Any] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    time_ms: int = 0
    version: int = 1

    @classmethod
    def from_record(cls, record: Record) -> Review:
        data = record.data
        return cls(
            trace_id=data["trace_id"],
            reviewer=data["reviewer"],
            state=data["state"],
            labels=dict(data.get("labels") or {}),
            comments=dict(data.get("comments") or {}),
            time_ms=record.updated_time_ms,
            version=record.version,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "reviewer": self.reviewer,
            "state": self.state,
            "labels": self.labels,
            "comments": self.comments,
            "time_ms": self.time_ms,
            "version": self.version,
        }


@dataclass(frozen=True)
class Item:
    trace_id: str
    position: int
    added_time_ms: int


class Board:
    """The items (in order) and reviews of one session, as of the last ``refresh``."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.items: dict[str, Item] = {}
        self.reviews: dict[str, dict[str, Review]] = {}
        self.order: list[str] = []
        self.rank: dict[str, int] = {}
        self._seen = {ITEM_KIND: -1, REVIEW_KIND: -1}
        self._counts: dict[str, tuple[int, int]] | None = None
        self.lock = threading.RLock()

    def refresh(self, store: TraceStore) -> Board:
        """Read what changed since the last refresh. Returns self."""
        with self.lock:
            if self._changes(store, ITEM_KIND):
                self.order = sorted(self.items, key=lambda t: (self.items[t].position, t))
                self.rank = {trace_id: i for i, trace_id in enumerate(self.order)}
                self._counts = None
            if self._changes(store, REVIEW_KIND):
                self._counts = None
        return self

    def _changes(self, store: TraceStore, kind: str) -> bool:
        seen = self._seen[kind]
        found = store.list_records(
            kind,
            parent=self.session_id,
            include_deleted=seen >= 0,
            changed_after=seen if seen >= 0 else None,
        )
        for record in found:
            self._seen[kind] = max(self._seen[kind], record.sequence)
            trace_id = record.data.get("trace_id") or record.id.split(".")[1]
            if kind == ITEM_KIND:
                if record.deleted:
                    self.items.pop(trace_id, None)
                else:
                    position = record.data.get("position", 0)
                    self.items[trace_id] = Item(trace_id, position, record.created_time_ms)
            elif not record.deleted:
                review = Review.from_record(record)
                self.reviews.setdefault(trace_id, {})[review.reviewer] = review
        return bool(found)

    # -- questions the pages ask --------------------------------------------------------
    def done_count(self, trace_id: str) -> int:
        return sum(r.state == DONE for r in self.reviews.get(trace_id, {}).values())

    def state(self, trace_id: str, required: int) -> str:
        """``done`` (enough reviewers), ``in_progress`` (some) or ``pending`` (none)."""
        done = self.done_count(trace_id)
        return DONE if done >= required else ("in_progress" if done else "pending")

    def review(self, trace_id: str, reviewer: str) -> Review | None:
        return self.reviews.get(trace_id, {}).get(reviewer)

    def is_open_for(self, trace_id: str, reviewer: str, required: int) -> bool:
        """Whether ``reviewer`` still has this item to do: not done or skipped by them, and
        not yet done by enough reviewers."""
        return self.review(trace_id, reviewer) is None and self.done_count(trace_id) < required

    def next_for(self, reviewer: str, required: int, after: str | None = None) -> str | None:
        """The next item ``reviewer`` has to do after ``after`` (wrapping around), or None."""
        start = self.rank[after] + 1 if after in self.rank else 0
        count = len(self.order)
        for offset in range(count):
            trace_id = self.order[(start + offset) % count]
            if self.is_open_for(trace_id, reviewer, required):
                return trace_id
        return None

    def _all_counts(self) -> dict[str, tuple[int, int]]:
        """Per reviewer, items done and skipped (of the current items); kept until a change."""
        if self._counts is None:
            counts: dict[str, list[int]] = {}
            for trace_id, by_reviewer in self.reviews.items():
                if trace_id not in self.items:
                    continue
                for name, review in by_reviewer.items():
                    pair = counts.setdefault(name, [0, 0])
                    pair[0 if review.state == DONE else 1] += 1
            self._counts = {name: (pair[0], pair[1]) for name, pair in counts.items()}
        return self._counts

    def counts_for(self, reviewer: str) -> tuple[int, int]:
        """Items ``reviewer`` has done and skipped (of the current items)."""
        return self._all_counts().get(reviewer, (0, 0))

    def reviewers(self) -> list[str]:
        return sorted(self._all_counts())


class BoardCache:
    """The boards of the most recently used sessions (the review app keeps one)."""

    def __init__(self, size: int = 32) -> None:
        self._boards: OrderedDict[str, Board] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, store: TraceStore, session_id: str) -> Board:
        with self._lock:
            board = self._boards.pop(session_id, None) or Board(session_id)
            self._boards[session_id] = board
            while len(self._boards) > self._size:
                self._boards.popitem(last=False)
        return board.refresh(store)
