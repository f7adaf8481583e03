"""The store labeling works on, and the record layout it keeps there.

Public functions work on the active configuration's store (``otelfeedback.configure``), or in
a ``using_store(store)`` block on that one: that is how the server and the command line run
them, without configuring the process (label assessments are then appended by the store
itself, through ``otelfeedback.api.assessments.writing_to``).

Records (``store/records.py``), by kind:

- ``label_schema`` — id ``ls-`` + 32 hex of the name's SHA-256 (names are free text).
- ``labeling_session`` — id ``lss-`` + 32 random hex; ``labeling_session_name`` (id from the
  name, like a schema's) holds the id of the live session of that name: names are unique.
- ``labeling_item`` — ``<session id>.<trace id>``, parent the session.
- ``labeling_review`` — ``<session id>.<trace id>.<reviewer key>``, parent the session: one
  reviewer's state and labels on one item; every submission is a new version.
- ``labeling_link_secret`` — the key review links are signed with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from otelfeedback.api._store import read_store
from otelfeedback.api.assessments import writing_to
from otelfeedback.store.base import TraceStore
from otelfeedback.store.query.fields import RECORD_SETS

SCHEMA_KIND = "label_schema"
SESSION_KIND = RECORD_SETS["labeling_session"].set_kind
ITEM_KIND = RECORD_SETS["labeling_session"].member_kind
SESSION_NAME_KIND = "labeling_session_name"
REVIEW_KIND = "labeling_review"
SECRET_KIND = "labeling_link_secret"

_scope: ContextVar[TraceStore | None] = ContextVar("otelfeedback_labeling_store", default=None)


@contextmanager
def using_store(store: TraceStore, *, service_name: str = "otelfeedback") -> Iterator[None]:
    """Within the block (this thread or task), labeling reads and writes ``store``, and label
    assessments are appended to it directly (``service_name`` names the writer)."""
    token = _scope.set(store)
    try:
        with writing_to(store, service_name=service_name):
            yield
    finally:
        _scope.reset(token)


def current_store() -> TraceStore:
    """The scoped store, else the active one (after flushing this process's spans to it).

    Raises:
        ConfigurationError: no store is configured.
    """
    scoped = _scope.get()
    return scoped if scoped is not None else read_store()


def name_key(prefix: str, name: str) -> str:
    """A record id for a free-text name: ``prefix`` + 32 hex of its SHA-256."""
    return prefix + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def item_id(session_id: str, trace_id: str) -> str:
    return f"{session_id}.{trace_id}"


def review_id(session_id: str, trace_id: str, reviewer: str) -> str:
    return f"{session_id}.{trace_id}.{name_key('', reviewer)[:16]}"
