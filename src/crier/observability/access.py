"""One JSON access-log line and one metrics sample per API request, and the `/metrics` route."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crier.observability import exposition, metrics

access_log = logging.getLogger("crier.access")

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics() -> Response:
    """Prometheus text format: this process's (or every API process's) metrics plus PostgreSQL's gauges."""
    from crier.core.db import get_sessionmaker

    await exposition.database_snapshot.refresh(get_sessionmaker())
    body, content_type = exposition.exposition()
    return Response(body, media_type=content_type)


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/v1/content/{container_id}`): a bounded label, no ids."""
    route = scope.get("route")
    return getattr(route, "path", None) or metrics.UNMATCHED_ROUTE


class AccessLogMiddleware:
    """Outermost middleware: times the request, then logs and counts it once it has been answered.

    It sits outside RequestIdMiddleware, which turns unexpected exceptions into the 500 envelope, so
    every request it sees gets a status; the request id is read back from the X-Request-Id header.
    """

    def __init__(self, app: ASGIApp, *, log_requests: bool = True) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope.setdefault("state", {})  # the one dict authentication writes the caller into
        answered: dict[str, Any] = {"status": 500, "request_id": None}

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"x-request-id":
                        answered["request_id"] = value.decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            status = int(answered["status"])
            metrics.record_request(scope["method"], route, status, seconds)
            if self.log_requests:  # no `return` here: it would swallow an exception on its way out
                principal = scope["state"].get("principal")
                access_log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "durationMs": round(seconds * 1000, 2),
                        "request_id": answered["request_id"],
                        "keyId": getattr(principal, "key_id", None),
                        "organizationId": getattr(principal, "organization_id", None),
                    },
                )
