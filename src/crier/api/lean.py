"""Routes whose well-formed requests skip FastAPI's per-request machinery; every other request keeps it.

FastAPI routes a request through its router (four route matches for an included router), its own
middlewares (exception mapping, an exit stack, body limits, telemetry) and its dependency solving:
half of a 1-target publish's CPU. An endpoint that carries a `lean` handler (`with_lean`) is served
by `LeanDispatch`, a middleware just inside Crier's own, before FastAPI sees the request: the handler
parses what it needs itself and answers, or returns None *before any side effect* when the request
is not plainly well formed, and then FastAPI serves it as before. So every refusal of a malformed
request (the 422's field paths, the order of checks: authentication before validation) is FastAPI's,
unchanged, and the route is declared to FastAPI as before (the OpenAPI document does not change).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from crier.api.middleware import replaying

LeanHandler = Callable[[Request], Awaitable[Response | None]]
Model = TypeVar("Model", bound=BaseModel)
_JSON = frozenset({b"application/json", b"application/json; charset=utf-8"})


def with_lean(lean: LeanHandler) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator (under the route's): `lean` serves the endpoint's well-formed requests."""

    def attach(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        endpoint.lean = lean  # type: ignore[attr-defined]  # a plain attribute on the function, read by LeanDispatch
        return endpoint

    return attach


@dataclass(frozen=True)
class _LeanRoute:
    route: APIRoute  # what scope["route"] holds for FastAPI's handler too: the same metrics label
    path: re.Pattern[str]
    methods: frozenset[str]
    lean: LeanHandler


class LeanDispatch:
    """ASGI middleware: the lean handlers of `routers`' endpoints answer before FastAPI's router.

    Sits inside Crier's middlewares (request id, body cap, access log and metrics see every request
    as before) and outside FastAPI's. What a lean handler raises is answered by the app's exception
    handlers, as FastAPI's ExceptionMiddleware would pick them; an exception without one goes on to
    RequestIdMiddleware's 500 envelope. The routers must be included in the app without a prefix.
    """

    def __init__(self, app: ASGIApp, *, routers: Iterable[APIRouter]) -> None:
        self.app = app
        self.routes = [
            _LeanRoute(route, route.path_regex, frozenset(route.methods or ()), lean)
            for router in routers
            for route in router.routes
            if isinstance(route, APIRoute) and callable(lean := getattr(route.endpoint, "lean", None))
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._route_of(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        lean, path_params = found
        body, disconnected = await _read_body(receive)
        if disconnected:
            return
        scope["route"], scope["path_params"] = lean.route, path_params  # as FastAPI's router sets them
        request = Request(scope, replaying(body, receive))
        try:
            response = await lean.lean(request)
        except Exception as exc:
            handler = _handler_for(scope, exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        if response is None:  # not plainly well formed: FastAPI's own handling, with the body replayed
            del scope["route"], scope["path_params"]
            await self.app(scope, replaying(body, receive), send)
            return
        await response(scope, receive, send)

    def _route_of(self, scope: Scope) -> tuple[_LeanRoute, dict[str, Any]] | None:
        if scope["type"] != "http" or scope.get("root_path"):
            return None  # a mounted app's paths are FastAPI's to resolve
        for lean in self.routes:
            if scope["method"] in lean.methods:
                match = lean.path.match(scope["path"])
                if match is not None:
                    return lean, match.groupdict()
        return None


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole body (BodySizeLimitMiddleware outside has capped it), and whether the client left."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _handler_for(scope: Scope, exc: Exception) -> Callable[[Request, Exception], Awaitable[Response]] | None:
    """The app's handler for `exc` as Starlette's ExceptionMiddleware looks it up (the 500 one aside)."""
    handlers: dict[Any, Any] = scope["app"].exception_handlers
    for kind in type(exc).__mro__:
        if kind is Exception:
            return None
        if kind in handlers:
            handler: Callable[[Request, Exception], Awaitable[Response]] = handlers[kind]
            return handler
    return None


async def json_body(request: Request, model: type[Model]) -> Model | None:
    """The body as `model`, validated as FastAPI would (a JSON document, then validate_python); None if not.

    None for anything FastAPI would refuse or read differently: another content type, an empty body,
    bytes that are not JSON, a document the model refuses. orjson parses it: what it refuses and the
    json module reads (NaN, 1e400, an unpaired surrogate) is declined, and FastAPI refuses it as ever.
    """
    content_type = None
    for name, value in request.scope["headers"]:
        if name == b"content-type":
            content_type = value.lower()
            break
    if content_type not in _JSON:
        return None
    body = await request.body()
    if not body:
        return None
    try:
        return model.model_validate(orjson.loads(body))
    except Exception:  # FastAPI's handler reproduces the refusal in its own words
        return None
