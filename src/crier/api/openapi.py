"""The OpenAPI document tells the truth: security schemes, Idempotency-Key, the error envelope."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from crier.core.errors import CrierError, PayloadTooLarge, RateLimited, Unavailable


class ErrorBody(BaseModel):
    code: str = Field(examples=["NOT_FOUND"])
    message: str
    requestId: str | None = Field(examples=["req_3f1c2b7a9d8e4f60a1b2c3d4e5f60718"])
    details: dict[str, Any]


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def error_responses(*errors: type[CrierError], examples: dict[str, dict] | None = None) -> dict[int, dict]:
    """`responses=` for a route: each status with the codes it may carry and an example envelope."""
    by_status: dict[int, list[type[CrierError]]] = {}
    for error in errors:
        by_status.setdefault(error.status, []).append(error)
    responses: dict[int, dict] = {}
    for status, group in sorted(by_status.items()):
        named = {
            cls.code: {
                "summary": cls.code,
                "value": {"error": {"code": cls.code, "message": cls.message, "requestId": "req_...",
                                    "details": (examples or {}).get(cls.code, {})}},
            }
            for cls in group
        }
        responses[status] = {
            "model": ErrorEnvelope,
            "description": " / ".join(cls.code for cls in group),
            "content": {"application/json": {"examples": named}},
        }
    return responses


def success_examples(status: int = 200, **named: Any) -> dict[int, dict]:
    """`responses=` entry giving the success answer named examples (as the seeds show them)."""
    examples = {name: {"summary": name.replace("_", " "), "value": value} for name, value in named.items()}
    return {status: {"content": {"application/json": {"examples": examples}}}}


def merge_responses(*parts: dict[int, dict]) -> dict[int, dict]:
    """Deep-merge several `responses=` dicts (a success's replay header and its examples, say)."""
    merged: dict[int, dict] = {}
    for part in parts:
        for status, response in part.items():
            _deep_merge(merged.setdefault(status, {}), copy.deepcopy(response))
    return merged


def _deep_merge(into: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


VALIDATION_RESPONSE = {422: {"model": ErrorEnvelope,
                             "description": "VALIDATION: the body or a parameter is not valid"}}

_ENVELOPE_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
_REQUEST_ID_HEADER = {"description": "The request id (also `error.requestId`); a sane incoming one is kept.",
                      "required": True, "schema": {"type": "string"}}
_RETRY_AFTER_HEADER = {"description": "Seconds to wait before retrying.", "required": True,
                       "schema": {"type": "string", "pattern": "^[0-9]+$"}}


def _cross_cutting(error: type[CrierError], description: str, details: dict[str, Any],
                   retry_after: bool = False) -> dict[str, Any]:
    """A response that middleware or a shared dependency can give on any route it covers."""
    response: dict[str, Any] = {
        "description": f"{error.code}: {description}",
        "content": {"application/json": {"schema": _ENVELOPE_REF, "examples": {error.code: {
            "summary": error.code,
            "value": {"error": {"code": error.code, "message": error.message, "requestId": "req_...",
                                "details": details}}}}}},
    }
    if retry_after:
        response["headers"] = {"Retry-After": _RETRY_AFTER_HEADER}
    return response


def _add_cross_cutting_responses(path: str, method: str, operation: dict[str, Any]) -> None:
    """What every route may answer besides its own errors: the body limit, the rate limit, outages."""
    responses = operation.setdefault("responses", {})
    if method in ("post", "put", "patch"):  # BodySizeLimitMiddleware reads every body of these methods
        responses.setdefault("413", _cross_cutting(
            PayloadTooLarge, "the body is larger than CRIER_MAX_BODY_BYTES", {"maxBytes": 1048576}))
    if path.startswith("/v1/"):  # per-key rate limit, counted while authenticating
        responses.setdefault("429", _cross_cutting(
            RateLimited, "this API key's requests per minute are used up; retry after Retry-After seconds",
            {"limit": 600, "windowSeconds": 60, "retryAfterSeconds": 17}, retry_after=True))
    if path != "/healthz":  # everything else needs PostgreSQL
        responses.setdefault("503", _cross_cutting(
            Unavailable, "PostgreSQL is unreachable; retry shortly", {}, retry_after=True))
    conflict = responses.get("409", {}).get("content", {}).get("application/json", {}).get("examples", {})
    if "IDEMPOTENCY_IN_FLIGHT" in conflict:  # only that 409 carries it
        responses["409"].setdefault("headers", {})["Retry-After"] = {**_RETRY_AFTER_HEADER, "required": False}
    for response in responses.values():
        response.setdefault("headers", {})["X-Request-Id"] = _REQUEST_ID_HEADER


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        components = schema.setdefault("components", {})
        components["securitySchemes"] = {
            "bearerAuth": {"type": "http", "scheme": "bearer", "description": "API key: lp_live_..."},
            "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            "adminToken": {"type": "http", "scheme": "bearer",
                           "description": "CRIER_ADMIN_TOKEN (operator API)"},
        }
        # FastAPI's default 422 schema is not ours: point every 422 at the envelope.
        schemas = components.setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        for path, methods in schema.get("paths", {}).items():
            for method, operation in methods.items():
                if not isinstance(operation, dict):
                    continue
                if path.startswith("/admin/"):
                    operation["security"] = [{"adminToken": []}]
                elif path.startswith("/v1/"):
                    operation["security"] = [{"bearerAuth": []}, {"apiKeyHeader": []}]
                response_422 = operation.get("responses", {}).get("422")
                if response_422 is not None:
                    # Keep the route's examples; only the schema is replaced.
                    media = response_422.setdefault("content", {}).setdefault("application/json", {})
                    media["schema"] = _ENVELOPE_REF
                    if response_422.get("description") == "Validation Error":
                        response_422["description"] = "VALIDATION: the body or a parameter is not valid"
                _add_cross_cutting_responses(path, method, operation)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
