"""Every error leaves Crier in the contract's envelope: {"error": {code, message, requestId, details}}."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from crier.core.context import current_request_id
from crier.core.errors import CrierError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def envelope(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {
        "error": {
            "code": code,
            "message": message,
            "requestId": current_request_id(),
            "details": details or {},
        }
    }
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _validation_errors(exc: RequestValidationError) -> tuple[str, list[dict[str, str]]]:
    errors = []
    message = "The request is not valid."
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        if error.get("type") == "json_invalid":
            message = "The request body is not valid JSON."
            errors.append(
                {
                    "path": "body",
                    "message": f"Malformed JSON: {error.get('ctx', {}).get('error', '')}".strip(),
                }
            )
            continue
        if error.get("type") == "extra_forbidden":
            text = "Unknown field."
        else:
            text = error.get("msg", "Invalid value.")
        # "body.targets.0.mode" reads better for partners than FastAPI's tuples.
        errors.append({"path": ".".join(location), "message": text})
    return message, errors


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CrierError)
    async def crier_error(_: Request, exc: CrierError) -> Response:
        return envelope(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def request_validation(_: Request, exc: RequestValidationError) -> Response:
        message, errors = _validation_errors(exc)
        return envelope(422, "VALIDATION", message, {"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and isinstance(exc.__cause__, (ValueError, RecursionError)):
            # FastAPI answers 400 when a JSON body is not even text (bytes that are not UTF-8) or nests
            # deeper than the parser's stack: to partners that is malformed JSON like any other, so
            # the same 422 VALIDATION.
            problem = (
                "the body nests objects and arrays too deeply"
                if isinstance(exc.__cause__, RecursionError)
                else "the body is not UTF-8 text"
            )
            return envelope(
                422,
                "VALIDATION",
                "The request body is not valid JSON.",
                {"errors": [{"path": "body", "message": f"Malformed JSON: {problem}."}]},
            )
        code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        message = {404: "No such route.", 405: "Method not allowed on this route."}.get(
            exc.status_code, str(exc.detail)
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first route that matched the path; GET and DELETE of one path
            # are two routes, so ask them all.
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return envelope(exc.status_code, code, message, {}, headers)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_unreachable(_: Request, exc: Exception) -> Response:
        return _unavailable(exc)

    @app.exception_handler(PoolTimeout)
    async def overloaded(_: Request, exc: PoolTimeout) -> Response:
        # Every pooled connection stayed busy for CRIER_DATABASE_CONNECT_TIMEOUT_SECONDS: the request
        # did nothing yet (no connection, no statement), so the partner can simply come back.
        log.warning("database pool exhausted; answering 503", extra={"error": "PoolTimeout"})
        return envelope(
            503,
            "UNAVAILABLE",
            "Crier is at capacity; retry after Retry-After seconds.",
            {"reason": "overloaded"},
            {"Retry-After": "1"},
        )

    @app.exception_handler(OSError)
    @app.exception_handler(TimeoutError)
    async def os_error(_: Request, exc: Exception) -> Response:
        if raised_by_backing_service(exc):  # refused / missing socket / connect timeout of PostgreSQL
            return _unavailable(exc)
        log.exception("unhandled error")  # a bug (a missing file, say), not an outage
        return envelope(500, "INTERNAL", "An unexpected error occurred.")

    @app.exception_handler(DBAPIError)
    async def database_error(_: Request, exc: DBAPIError) -> Response:
        if exc.connection_invalidated or _is_connection_problem(exc):
            return _unavailable(exc)
        log.exception("database error")
        return envelope(500, "INTERNAL", "An unexpected error occurred.")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return envelope(500, "INTERNAL", "An unexpected error occurred.")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route offers on the request's path, read from the OpenAPI document's paths."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in operations if method.upper() in _HTTP_METHODS}
    return sorted(methods)


_HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def _unavailable(exc: Exception) -> Response:
    log.warning("backing service unavailable", extra={"error": type(exc).__name__})
    return envelope(
        503, "UNAVAILABLE", "A backing service is unavailable; retry shortly.", {}, {"Retry-After": "2"}
    )


# Packages whose low-level OSError / TimeoutError means "PostgreSQL or Redis cannot be reached".
_BACKING_CLIENTS = ("asyncpg", "sqlalchemy", "redis")


def raised_by_backing_service(exc: BaseException) -> bool:
    """True when the exception came up through the PostgreSQL or Redis client (its traceback says so).

    asyncpg lets a refused connection or a connect timeout out as a bare OSError / TimeoutError; the
    same types raised by Crier's own code (a missing file) are bugs and must stay 500s.
    """
    traceback = exc.__traceback__
    while traceback is not None:
        module = traceback.tb_frame.f_globals.get("__name__", "")
        if module.partition(".")[0] in _BACKING_CLIENTS:
            return True
        traceback = traceback.tb_next
    return False


def _is_connection_problem(exc: DBAPIError) -> bool:
    """True when PostgreSQL is unreachable, shutting down or still starting (not a query's fault)."""
    original = getattr(exc, "orig", None)
    # SQLSTATE class 08 (connection exception) and 57P (operator intervention: admin shutdown,
    # crash shutdown, "cannot connect now" while recovering after a restart).
    sqlstate = str(getattr(original, "sqlstate", "") or getattr(original, "pgcode", "") or "")
    if sqlstate.startswith(("08", "57P")):
        return True
    name = type(original).__name__ if original is not None else ""
    return any(
        word in name for word in ("Connection", "CannotConnect", "Shutdown", "AdminShutdown", "Timeout")
    )
