"""Per-request context (request id) shared by the envelope, the logs and the worker."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def new_request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def sane_request_id(incoming: str | None) -> str:
    """Honour a caller's X-Request-Id when it is short and plain; mint one otherwise."""
    if incoming and _SANE_REQUEST_ID.match(incoming):
        return incoming
    return new_request_id()


def current_request_id() -> str | None:
    return request_id_var.get()
