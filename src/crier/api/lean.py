"""Routes whose well-formed requests skip FastAPI's per-request machinery; every other request keeps it.

FastAPI resolves dependencies, reads headers and validates the body through generic machinery on
every request: a fifth of a 1-target publish's CPU. A `LeanRoute` whose endpoint carries a `lean`
handler (`with_lean`) first offers the request to it: the handler parses what it needs itself and
answers, or returns None *before any side effect* when the request is not plainly well formed, and
FastAPI's own handler serves it. So every refusal of a malformed request (the 422's field paths, the
order of checks: authentication before validation) is FastAPI's, unchanged, and the route is declared
to FastAPI as before (the OpenAPI document does not change).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from fastapi import Request
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.responses import Response

LeanHandler = Callable[[Request], Awaitable[Response | None]]
Model = TypeVar("Model", bound=BaseModel)
_JSON = frozenset({b"application/json", b"application/json; charset=utf-8"})


def with_lean(lean: LeanHandler) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator (under the route's): `lean` serves the endpoint's well-formed requests."""

    def attach(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        endpoint.lean = lean  # type: ignore[attr-defined]  # a plain attribute on the function, read by LeanRoute
        return endpoint

    return attach


class LeanRoute(APIRoute):
    """An APIRoute that tries its endpoint's `lean` handler first, FastAPI's handler when it declines."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        full = super().get_route_handler()
        lean: LeanHandler | None = getattr(self.endpoint, "lean", None)
        if lean is None:
            return full

        async def handler(request: Request) -> Response:
            response = await lean(request)
            return response if response is not None else await full(request)

        return handler


async def json_body(request: Request, model: type[Model]) -> Model | None:
    """The body as `model`, validated as FastAPI would (json.loads, then validate_python); None if not.

    None for anything FastAPI would refuse or read differently: another content type, an empty body,
    bytes that are not JSON, a document the model refuses.
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
        return model.model_validate(json.loads(body))
    except Exception:  # FastAPI's handler reproduces the refusal in its own words
        return None
