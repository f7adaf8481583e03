"""Label schemas: what to ask reviewers, stored as records (``label_schema``).

A schema's ``name`` is also the name of the assessments its answers become; ``type`` says
whether they are feedback (a judgement) or expectations (ground truth).

>>> create_label_schema(                                             # doctest: +SKIP
...     "response_accuracy", type="feedback", title="Is the response accurate?",
...     input=InputCategorical(["Accurate", "Partially Accurate", "Inaccurate"]))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from otelfeedback.assessments.validation import check_name
from otelfeedback.errors import ConflictError, InvalidArgumentError, NotFoundError
from otelfeedback.labeling._store import (
    SCHEMA_KIND,
    SESSION_KIND,
    current_store,
    name_key,
)
from otelfeedback.labeling.inputs import INPUT_TYPES, Input, input_from_dict, is_input
from otelfeedback.store.base import TraceStore
from otelfeedback.store.records import Record

SCHEMA_TYPES = ("feedback", "expectation")
MAX_TITLE = 1000
MAX_INSTRUCTION = 10_000


@dataclass(frozen=True)
class LabelSchema:
    """A question for reviewers.

    Attributes:
        name: the name of the assessments its answers become (unique).
        type: ``"feedback"`` or ``"expectation"``.
        title: the question shown to reviewers.
        input: the answer's input (``InputCategorical``, ``InputText``, ...).
        instruction: extra guidance shown under the question.
        enable_comment: offer a comment box; it becomes the feedback's rationale (an
            expectation's ``metadata["comment"]``).
        schema_id: the record id (``ls-`` + 32 hex).
    """

    name: str
    type: str
    title: str
    input: Input
    instruction: str | None = None
    enable_comment: bool = False
    schema_id: str = ""
    created_time_ms: int = 0
    last_update_time_ms: int = 0

    def check(self, value: Any, argument: str | None = None) -> Any:
        """The answer ``value`` as stored (None: not answered).

        Raises:
            InvalidArgumentError: the value does not fit the input (``labels.<name>``).
        """
        try:
            return self.input.check(value)
        except ValueError as exc:
            raise InvalidArgumentError(argument or f"labels.{self.name}", str(exc)) from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_id": self.schema_id,
            "name": self.name,
            "type": self.type,
            "title": self.title,
            "input": self.input.to_dict(),
            "instruction": self.instruction,
            "enable_comment": self.enable_comment,
            "created_time_ms": self.created_time_ms,
            "last_update_time_ms": self.last_update_time_ms,
        }

    @classmethod
    def from_record(cls, record: Record) -> LabelSchema:
        data = record.data
        return cls(
            name=data["name"],
            type=data["type"],
            title=data["title"],
            input=input_from_dict(data["input"]),
            instruction=data.get("instruction"),
            enable_comment=bool(data.get("enable_comment", False)),
            schema_id=record.id,
            created_time_ms=record.created_time_ms,
            last_update_time_ms=record.updated_time_ms,
        )


def schema_id(name: str) -> str:
    return name_key("ls-", name)


def head_version(store: TraceStore, kind: str, record_id: str) -> tuple[int, bool]:
    """The latest version of a record (0 if none) and whether it is alive."""
    history = store.record_history(kind, record_id)
    if not history:
        return 0, False
    return history[-1].version, not history[-1].deleted


def _check_text(value: Any, argument: str, limit: int, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidArgumentError(argument, f"expected a non-empty string, got {value!r:.80}")
    if len(value) > limit:
        raise InvalidArgumentError(argument, f"at most {limit:,} characters, got {len(value):,}")
    return value


def _check_bool(value: Any, argument: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError(argument, f"expected True or False, got {value!r:.40}")
    return value


def create_label_schema(
    name: str,
    *,
    type: str = "feedback",
    title: str,
    input: Input,
    instruction: str | None = None,
    enable_comment: bool = False,
    overwrite: bool = False,
) -> LabelSchema:
    """Define a question for reviewers (its answers become assessments named ``name``).

    Example::

        create_label_schema("expected_response", type="expectation",
                            title="What would be the ideal response?", input=InputText())

    Args:
        name: the schema and assessment name (unique; at most 250 characters).
        type: ``"feedback"`` or ``"expectation"``.
        title: the question shown to reviewers.
        input: ``InputCategorical``, ``InputCategoricalList``, ``InputText``,
            ``InputTextList`` or ``InputNumeric``.
        instruction: guidance shown under the question.
        enable_comment: offer a comment box with the answer.
        overwrite: replace a schema of the same name (sessions using it see the new one).

    Returns:
        The stored ``LabelSchema``.

    Raises:
        InvalidArgumentError: a bad argument, or ``name`` exists and ``overwrite`` is False.
    """
    name = check_name(name)
    if type not in SCHEMA_TYPES:
        raise InvalidArgumentError("type", f"expected 'feedback' or 'expectation', got {type!r}")
    title_text = _check_text(title, "title", MAX_TITLE, required=True)
    if not is_input(input):
        names = ", ".join(cls.__name__ for cls in INPUT_TYPES.values())
        raise InvalidArgumentError("input", f"expected one of {names}, got {input!r:.80}")
    instruction = _check_text(instruction, "instruction", MAX_INSTRUCTION, required=False)
    enable_comment = _check_bool(enable_comment, "enable_comment")
    overwrite = _check_bool(overwrite, "overwrite")
    data = {
        "name": name,
        "type": type,
        "title": title_text,
        "input": input.to_dict(),
        "instruction": instruction,
        "enable_comment": enable_comment,
    }
    store = current_store()
    record_id = schema_id(name)
    for _ in range(5):
        version, alive = head_version(store, SCHEMA_KIND, record_id)
        if alive and not overwrite:
            raise InvalidArgumentError(
                "name", f"a label schema named {name!r} exists; pass overwrite=True to replace it"
            )
        try:
            record = store.append_record(SCHEMA_KIND, record_id, data, expected_version=version)
        except ConflictError:
            continue  # written at the same time by someone else: look again
        return LabelSchema.from_record(record)
    raise InvalidArgumentError("name", f"label schema {name!r} keeps changing; try again")


def get_label_schema(name: str) -> LabelSchema:
    """The label schema named ``name``.

    Raises:
        NotFoundError: no such schema.
    """
    return load_schema(current_store(), check_name(name))


def load_schema(store: TraceStore, name: str) -> LabelSchema:
    try:
        return LabelSchema.from_record(store.get_record(SCHEMA_KIND, schema_id(name)))
    except NotFoundError:
        raise NotFoundError(f"no label schema named {name!r}") from None


def list_label_schemas() -> list[LabelSchema]:
    """Every label schema, by name."""
    records = current_store().list_records(SCHEMA_KIND)
    return sorted((LabelSchema.from_record(r) for r in records), key=lambda s: s.name)


def delete_label_schema(name: str) -> None:
    """Delete a label schema (the assessments its answers became stay).

    Raises:
        NotFoundError: no such schema.
        InvalidArgumentError: a labeling session still asks it (delete the session first).
    """
    name = check_name(name)
    store = current_store()
    load_schema(store, name)
    users = sorted(
        r.data.get("name", r.id)
        for r in store.list_records(SESSION_KIND)
        if name in r.data.get("label_schemas", [])
    )
    if users:
        raise InvalidArgumentError(
            "name",
            f"label schema {name!r} is used by labeling session(s) "
            f"{', '.join(map(repr, users))}; delete them first",
        )
    store.delete_record(SCHEMA_KIND, schema_id(name))
