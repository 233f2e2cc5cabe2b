"""The OpenAPI document tells the truth: security schemes, Idempotency-Key, the error envelope."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from crier.core.errors import CrierError


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


VALIDATION_RESPONSE = {422: {"model": ErrorEnvelope, "description": "VALIDATION: the body or a parameter is not valid"}}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        components = schema.setdefault("components", {})
        components["securitySchemes"] = {
            "bearerAuth": {"type": "http", "scheme": "bearer", "description": "API key: lp_live_..."},
            "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            "adminToken": {"type": "http", "scheme": "bearer", "description": "CRIER_ADMIN_TOKEN (operator API)"},
        }
        # FastAPI's default 422 schema is not ours: point every 422 at the envelope.
        schemas = components.setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        for path, methods in schema.get("paths", {}).items():
            for operation in methods.values():
                if not isinstance(operation, dict):
                    continue
                if path.startswith("/admin/"):
                    operation["security"] = [{"adminToken": []}]
                elif path.startswith("/v1/"):
                    operation["security"] = [{"bearerAuth": []}, {"apiKeyHeader": []}]
                response_422 = operation.get("responses", {}).get("422")
                if response_422 is not None:
                    response_422["content"] = {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}
                    }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
