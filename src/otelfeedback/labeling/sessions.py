"""Labeling sessions: a set of traces for reviewers to label against some label schemas.

>>> session = create_labeling_session(                               # doctest: +SKIP
...     "quickstart_review", label_schemas=["response_accuracy", "expected_response"])
>>> session.add_traces(otelfeedback.search_traces(max_results=1))   # doctest: +SKIP
>>> print(session.url)                                               # doctest: +SKIP

Session names are unique (a ``labeling_session_name`` record holds the live session of each
name). Items and reviews are records whose parent is the session (see ``_store.py``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from otelfeedback import config
from otelfeedback.errors import ConflictError, InvalidArgumentError, NotFoundError
from otelfeedback.labeling import links
from otelfeedback.labeling._store import (
    SESSION_KIND,
    SESSION_NAME_KIND,
    current_store,
    name_key,
)
from otelfeedback.labeling.schemas import LabelSchema, head_version, load_schema
from otelfeedback.store.base import TraceStore
from otelfeedback.store.records import Record, RecordWrite

if TYPE_CHECKING:
    from otelfeedback.labeling.agreement import AgreementReport
    from otelfeedback.labeling.board import Review
    from otelfeedback.labeling.progress import LabelingItem, Progress

SESSION_ID = re.compile(r"lss-[0-9a-f]{32}")
MAX_NAME = 250
MAX_USERS = 1000
MAX_REVIEWERS_PER_ITEM = 100
MAX_INSTRUCTIONS = 20_000


@dataclass
class LabelingSession:
    """A labeling session (get one with ``create_labeling_session`` /
    ``get_labeling_session``).

    Attributes:
        labeling_session_id: ``lss-`` + 32 hex.
        name: unique among live sessions.
        label_schemas: the names of the schemas reviewers answer, in order.
        assigned_users: the reviewers who may label (empty: anyone with the link).
        instructions: shown to reviewers above every item.
        reviewers_per_item: an item is done once this many reviewers labeled it.
    """

    labeling_session_id: str
    name: str
    label_schemas: list[str]
    assigned_users: list[str] = field(default_factory=list)
    instructions: str | None = None
    reviewers_per_item: int = 1
    created_time_ms: int = 0
    created_by: str | None = None

    @classmethod
    def from_record(cls, record: Record) -> LabelingSession:
        data = record.data
        return cls(
            labeling_session_id=record.id,
            name=data["name"],
            label_schemas=list(data["label_schemas"]),
            assigned_users=list(data.get("assigned_users") or []),
            instructions=data.get("instructions"),
            reviewers_per_item=int(data.get("reviewers_per_item", 1)),
            created_time_ms=record.created_time_ms,
            created_by=record.created_by,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "labeling_session_id": self.labeling_session_id,
            "name": self.name,
            "label_schemas": list(self.label_schemas),
            "assigned_users": list(self.assigned_users),
            "instructions": self.instructions,
            "reviewers_per_item": self.reviewers_per_item,
            "created_time_ms": self.created_time_ms,
            "created_by": self.created_by,
        }

    def schemas(self, store: TraceStore | None = None) -> list[LabelSchema]:
        """The session's label schemas, as currently defined."""
        store = store or current_store()
        return [load_schema(store, name) for name in self.label_schemas]

    # -- traces --------------------------------------------------------------------------
    def add_traces(self, traces: Any) -> LabelingSession:
        """Add traces to the session (those already in it are left as they are).

        Args:
            traces: what ``search_traces`` returns (a list of ``Trace`` or a DataFrame), or
                trace ids, or a single trace or id.

        Returns:
            The session.

        Raises:
            InvalidArgumentError: something that is not a trace or a trace id.
            NotFoundError: a trace the store does not have (nothing is added).
        """
        from otelfeedback.labeling import items

        items.add(current_store(), self, items.trace_ids(traces))
        return self

    def remove_traces(self, traces: Any) -> LabelingSession:
        """Take traces out of the session (their labels stay on the traces)."""
        from otelfeedback.labeling import items

        items.remove(current_store(), self, items.trace_ids(traces))
        return self

    # -- links ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The session's review link, for any reviewer (they give their name or pick
        theirs among ``assigned_users``); valid 14 days (stable within the hour)."""
        store = current_store()
        expires = links.expiry_seconds(links.DEFAULT_LIFETIME, granularity=3600)
        return links.link_url(
            base_url(store), links.sign(store, self.labeling_session_id, "", expires)
        )

    def reviewer_url(self, user: str, expires_in: Any = links.DEFAULT_LIFETIME) -> str:
        """A review link for one reviewer: whoever opens it labels as ``user``.

        Args:
            user: the reviewer's name or email (one of ``assigned_users`` when set).
            expires_in: a ``timedelta`` or seconds (default 14 days, at most 366).

        Raises:
            InvalidArgumentError: a bad user or expiry.
        """
        store = current_store()
        reviewer = check_reviewer(self, user, "user")
        token = links.sign(
            store, self.labeling_session_id, reviewer, links.expiry_seconds(expires_in)
        )
        return links.link_url(base_url(store), token)

    # -- state ---------------------------------------------------------------------------
    def items(self) -> list[LabelingItem]:
        """Every item in order, with its state and each reviewer's review."""
        from otelfeedback.labeling import progress

        return progress.items_of(current_store(), self)

    def progress(self) -> Progress:
        """How far the session is: items done / in progress / pending, and per reviewer."""
        from otelfeedback.labeling import progress

        return progress.progress_of(current_store(), self)

    def agreement(self) -> AgreementReport:
        """Agreement between reviewers per schema, and the items where they disagree."""
        from otelfeedback.labeling import agreement

        return agreement.report(current_store(), self)

    def submit_labels(
        self,
        trace_id: str,
        reviewer: str,
        labels: dict[str, Any],
        comments: dict[str, str] | None = None,
    ) -> Review:
        """Record ``reviewer``'s labels on one item, as the review app does: each answer
        becomes an assessment (HUMAN source ``reviewer``); labeling again updates them.

        Raises:
            InvalidArgumentError: a label that does not fit its schema, or a bad reviewer.
            NotFoundError: the trace is not in the session.
        """
        from otelfeedback.labeling import reviews

        return reviews.submit(current_store(), self, trace_id, reviewer, labels, comments)


# -- module functions -------------------------------------------------------------------------
def base_url(store: TraceStore) -> str:
    """Where reviewers reach the server: a remote store's URL, else the ``server_url``
    setting."""
    url = getattr(store, "url", None)
    return url if isinstance(url, str) else str(config.resolve("server_url"))


def check_reviewer(session: LabelingSession, value: Any, argument: str = "reviewer") -> str:
    """The reviewer's name, spaces normalised; one of ``assigned_users`` when set.

    Raises:
        InvalidArgumentError: empty, too long, or not assigned.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(
            argument, f"expected a reviewer name or email, got {value!r:.80}"
        )
    user = " ".join(value.split())
    if len(user) > MAX_NAME:
        raise InvalidArgumentError(argument, f"at most {MAX_NAME} characters")
    if session.assigned_users and user not in session.assigned_users:
        raise InvalidArgumentError(
            argument,
            f"{user!r} is not assigned to labeling session {session.name!r} "
            f"(assigned: {', '.join(session.assigned_users)})",
        )
    return user


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgumentError("name", f"expected a non-empty string, got {name!r:.80}")
    if len(name) > MAX_NAME:
        raise InvalidArgumentError("name", f"at most {MAX_NAME} characters, got {len(name)}")
    return name


def _check_schemas(store: TraceStore, label_schemas: Any) -> list[str]:
    if isinstance(label_schemas, (str, LabelSchema)) or not isinstance(
        label_schemas, (list, tuple)
    ):
        raise InvalidArgumentError("label_schemas", "expected a list of label schema names")
    if not label_schemas:
        raise InvalidArgumentError("label_schemas", "expected at least one label schema")
    names: list[str] = []
    for i, item in enumerate(label_schemas):
        name = item.name if isinstance(item, LabelSchema) else item
        where = f"label_schemas[{i}]"
        if not isinstance(name, str):
            raise InvalidArgumentError(where, f"expected a schema name, got {item!r:.80}")
        if name in names:
            raise InvalidArgumentError(where, f"{name!r} is listed twice")
        try:
            load_schema(store, name)
        except NotFoundError:
            raise InvalidArgumentError(
                where, f"no label schema named {name!r}; create it with create_label_schema"
            ) from None
        names.append(name)
    return names


def _check_users(users: Any) -> list[str]:
    if users is None:
        return []
    if isinstance(users, str) or not isinstance(users, (list, tuple)):
        raise InvalidArgumentError("assigned_users", "expected a list of names or emails")
    if len(users) > MAX_USERS:
        raise InvalidArgumentError("assigned_users", f"at most {MAX_USERS} users")
    result: list[str] = []
    for i, raw in enumerate(users):
        if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_NAME:
            raise InvalidArgumentError(
                f"assigned_users[{i}]", f"expected a name of 1 to {MAX_NAME} characters"
            )
        user = " ".join(raw.split())
        if user in result:
            raise InvalidArgumentError(f"assigned_users[{i}]", f"{user!r} is listed twice")
        result.append(user)
    return result


def create_labeling_session(
    name: str,
    *,
    label_schemas: list[str] | list[LabelSchema],
    assigned_users: list[str] | None = None,
    instructions: str | None = None,
    reviewers_per_item: int = 1,
) -> LabelingSession:
    """Create a labeling session.

    Args:
        name: unique among live sessions (at most 250 characters).
        label_schemas: names (or ``LabelSchema`` objects) of existing schemas.
        assigned_users: who may review (default: anyone with the session's link).
        instructions: shown to reviewers above every item.
        reviewers_per_item: an item is done once this many reviewers labeled it.

    Returns:
        The new ``LabelingSession``.

    Raises:
        InvalidArgumentError: a bad argument, an unknown schema, or ``name`` is taken.
    """
    store = current_store()
    name = _check_name(name)
    schemas = _check_schemas(store, label_schemas)
    users = _check_users(assigned_users)
    if instructions is not None and (
        not isinstance(instructions, str) or len(instructions) > MAX_INSTRUCTIONS
    ):
        raise InvalidArgumentError(
            "instructions", f"expected a string of at most {MAX_INSTRUCTIONS:,} characters"
        )
    if (
        isinstance(reviewers_per_item, bool)
        or not isinstance(reviewers_per_item, int)
        or not 1 <= reviewers_per_item <= MAX_REVIEWERS_PER_ITEM
    ):
        raise InvalidArgumentError(
            "reviewers_per_item",
            f"expected an int from 1 to {MAX_REVIEWERS_PER_ITEM}, got {reviewers_per_item!r}",
        )
    session_id = "lss-" + uuid.uuid4().hex
    data = {
        "name": name,
        "label_schemas": schemas,
        "assigned_users": users,
        "instructions": instructions,
        "reviewers_per_item": reviewers_per_item,
    }
    name_id = name_key("lsn-", name)
    version, alive = head_version(store, SESSION_NAME_KIND, name_id)
    taken = InvalidArgumentError(
        "name",
        f"a labeling session named {name!r} exists; open it with "
        f"get_labeling_session({name!r}) or delete it first",
    )
    if alive:
        raise taken
    try:
        _, record = store.append_records(
            [
                RecordWrite(
                    SESSION_NAME_KIND,
                    name_id,
                    {"session_id": session_id, "name": name},
                    expected_version=version,
                ),
                RecordWrite(SESSION_KIND, session_id, data, expected_version=0),
            ]
        )
    except ConflictError:
        raise taken from None
    return LabelingSession.from_record(record)


def load_session(store: TraceStore, name_or_id: Any) -> LabelingSession:
    """The live session with this id or name.

    Raises:
        NotFoundError: no such session.
    """
    if isinstance(name_or_id, LabelingSession):
        name_or_id = name_or_id.labeling_session_id
    if not isinstance(name_or_id, str) or not name_or_id:
        raise InvalidArgumentError(
            "name_or_id", f"expected a session name or id, got {name_or_id!r:.80}"
        )
    session_id = name_or_id
    if not SESSION_ID.fullmatch(name_or_id):
        try:
            session_id = store.get_record(SESSION_NAME_KIND, name_key("lsn-", name_or_id)).data[
                "session_id"
            ]
        except NotFoundError:
            raise NotFoundError(f"no labeling session named {name_or_id!r}") from None
    try:
        return LabelingSession.from_record(store.get_record(SESSION_KIND, session_id))
    except NotFoundError:
        raise NotFoundError(f"no labeling session {name_or_id!r}") from None


def get_labeling_session(name_or_id: str) -> LabelingSession:
    """The labeling session with this name (or ``lss-...`` id).

    Raises:
        NotFoundError: no such session.
    """
    return load_session(current_store(), name_or_id)


def list_labeling_sessions() -> list[LabelingSession]:
    """Every live labeling session, newest first."""
    found = [LabelingSession.from_record(r) for r in current_store().list_records(SESSION_KIND)]
    return sorted(found, key=lambda s: (-s.created_time_ms, s.name))


def delete_labeling_session(name_or_id: str | LabelingSession) -> None:
    """Delete a labeling session (the labels its reviewers gave stay on the traces).

    Raises:
        NotFoundError: no such session.
    """
    store = current_store()
    session = load_session(store, name_or_id)
    store.append_records(
        [
            RecordWrite(SESSION_KIND, session.labeling_session_id, deleted=True),
            RecordWrite(SESSION_NAME_KIND, name_key("lsn-", session.name), deleted=True),
        ]
    )
