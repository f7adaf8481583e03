"""What every route needs: the store, the assessment writer, the security policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from starlette.requests import Request

from otelfeedback.server.otlp import OTLPReceiver
from otelfeedback.server.pricing import BUILTIN, PriceTable
from otelfeedback.server.security import SecurityPolicy
from otelfeedback.server.writes import AssessmentWriter
from otelfeedback.store.file_store import FileStore

if TYPE_CHECKING:
    from otelfeedback.store.sql import SqlStore


@dataclass
class ServerContext:
    store: FileStore | SqlStore
    writer: AssessmentWriter
    receiver: OTLPReceiver
    policy: SecurityPolicy
    version: str
    static_version: str = ""
    prices: PriceTable = field(default_factory=lambda: PriceTable(BUILTIN))
    extra: dict[str, Any] = field(default_factory=dict)
    #: Contributors of actions on selected traces (``server/selection.py``).
    selection_providers: list[Callable[[ServerContext], Any]] = field(default_factory=list)


def get_context(request: Request) -> ServerContext:
    return cast(ServerContext, request.app.state.otelfeedback)
