"""What every route needs: the store, the assessment writer, the security policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from starlette.requests import Request

from otelfeedback.server.otlp import OTLPReceiver
from otelfeedback.server.security import SecurityPolicy
from otelfeedback.server.writes import AssessmentWriter
from otelfeedback.store.file_store import FileStore


@dataclass
class ServerContext:
    store: FileStore
    writer: AssessmentWriter
    receiver: OTLPReceiver
    policy: SecurityPolicy
    version: str
    static_version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def get_context(request: Request) -> ServerContext:
    return cast(ServerContext, request.app.state.otelfeedback)
