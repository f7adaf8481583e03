"""A selection of traces and the actions on it: the traces table's checkboxes (or "all
traces matching the filter") and one trace's page share one form (``_selection.html``).

Each feature contributes an action through a provider registered on the app (``create_app``):
a function of the server context that returns a ``SelectionAction`` (or None to show
nothing). The action's URL receives the form: ``trace_id`` (repeated) or ``scope=filter`` with
``filter``, the action's own ``choice_name`` field, ``return_to`` and the CSRF token;
``selected_trace_ids`` turns it into trace ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from otelfeedback.server._http import HTTPError
from otelfeedback.server.context import ServerContext

#: Traces "all matching the filter" may select at most.
MAX_SELECTION = 100_000


@dataclass
class SelectionAction:
    """One action on selected traces.

    Attributes:
        key: a short id (``labeling``), used in element ids.
        label: the button (``Add to labeling session``).
        url: where the form is posted.
        choice_name / choice_label / choices: a select of targets (value, label).
        empty_label / empty_url: shown instead of the button when there is no target yet.
    """

    key: str
    label: str
    url: str
    choice_name: str = ""
    choice_label: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    empty_label: str = ""
    empty_url: str = ""


Provider = Callable[[ServerContext], "SelectionAction | None"]


def actions(ctx: ServerContext) -> list[SelectionAction]:
    """The actions of every provider registered on the app."""
    found = (provider(ctx) for provider in ctx.selection_providers)
    return [action for action in found if action is not None]


def selected_trace_ids(ctx: ServerContext, form: dict[str, list[str]]) -> list[str]:
    """The trace ids a posted selection names (in order, without duplicates).

    Raises:
        HTTPError: 400 when nothing is selected.
        FilterSyntaxError: the filter does not parse (a 400 too).
    """
    if (form.get("scope") or [""])[-1] == "filter":
        filter_string = (form.get("filter") or [""])[-1].strip() or None
        page = ctx.store.search_traces(filter_string, MAX_SELECTION, None, None, None, False)
        ids = [t.info.trace_id for t in page]
    else:
        ids = list(dict.fromkeys(form.get("trace_id", [])))
    if not ids:
        raise HTTPError(
            400, "INVALID_ARGUMENT", "Select at least one trace (or all matching the filter)."
        )
    return ids
