"""The OpenAPI document tells the truth (security schemes, Idempotency-Key, the error envelope) and is
one a client generator can use: operation ids named like the SDK's calls, unique schema titles, and an
example for every schema and path parameter."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from pydantic.alias_generators import to_camel

from crier.api.examples import PARAMETER_EXAMPLES, SCHEMA_EXAMPLES
from crier.core.errors import CrierError, PayloadTooLarge, RateLimited, Unavailable


def operation_id(route: APIRoute) -> str:
    """`publish_content` → `publishContent`: the endpoint function's name, as generators and the SDK spell it.

    Given to FastAPI once (`generate_unique_id_function`), so every route any capability adds gets one;
    two endpoint functions with the same name would collide (tests/openapi checks uniqueness).
    """
    return to_camel(route.name)


class ErrorBody(BaseModel):
    code: str = Field(examples=["NOT_FOUND"])
    message: str
    requestId: str | None = Field(examples=["req_3f1c2b7a9d8e4f60a1b2c3d4e5f60718"])
    details: dict[str, Any]


class ErrorEnvelope(BaseModel):
    error: ErrorBody


# What FastAPI's `responses=` takes: per status, an OpenAPI response object.
Responses = dict[int | str, dict[str, Any]]


def error_responses(
    *errors: type[CrierError], examples: dict[str, dict[str, Any]] | None = None
) -> Responses:
    """`responses=` for a route: each status with the codes it may carry and an example envelope."""
    by_status: dict[int, list[type[CrierError]]] = {}
    for error in errors:
        by_status.setdefault(error.status, []).append(error)
    responses: Responses = {}
    for status, group in sorted(by_status.items()):
        named = {
            cls.code: {
                "summary": cls.code,
                "value": {
                    "error": {
                        "code": cls.code,
                        "message": cls.message,
                        "requestId": "req_...",
                        "details": (examples or {}).get(cls.code, {}),
                    }
                },
            }
            for cls in group
        }
        responses[status] = {
            "model": ErrorEnvelope,
            "description": " / ".join(cls.code for cls in group),
            "content": {"application/json": {"examples": named}},
        }
    return responses


def success_examples(status: int = 200, **named: Any) -> Responses:
    """`responses=` entry giving the success answer named examples (as the seeds show them)."""
    examples = {name: {"summary": name.replace("_", " "), "value": value} for name, value in named.items()}
    return {status: {"content": {"application/json": {"examples": examples}}}}


def merge_responses(*parts: Responses) -> Responses:
    """Deep-merge several `responses=` dicts (a success's replay header and its examples, say)."""
    merged: Responses = {}
    for part in parts:
        for status, response in part.items():
            _deep_merge(merged.setdefault(status, {}), copy.deepcopy(response))
    return merged


def _deep_merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value


VALIDATION_RESPONSE: Responses = {
    422: {"model": ErrorEnvelope, "description": "VALIDATION: the body or a parameter is not valid"}
}

_ENVELOPE_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
_REQUEST_ID_HEADER = {
    "description": "The request id (also `error.requestId`); a sane incoming one is kept.",
    "required": True,
    "schema": {"type": "string"},
}
_RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before retrying.",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}


def _cross_cutting(
    error: type[CrierError], description: str, details: dict[str, Any], retry_after: bool = False
) -> dict[str, Any]:
    """A response that middleware or a shared dependency can give on any route it covers."""
    response: dict[str, Any] = {
        "description": f"{error.code}: {description}",
        "content": {
            "application/json": {
                "schema": _ENVELOPE_REF,
                "examples": {
                    error.code: {
                        "summary": error.code,
                        "value": {
                            "error": {
                                "code": error.code,
                                "message": error.message,
                                "requestId": "req_...",
                                "details": details,
                            }
                        },
                    }
                },
            }
        },
    }
    if retry_after:
        response["headers"] = {"Retry-After": _RETRY_AFTER_HEADER}
    return response


def _add_cross_cutting_responses(path: str, method: str, operation: dict[str, Any]) -> None:
    """What every route may answer besides its own errors: the body limit, the rate limit, outages."""
    responses = operation.setdefault("responses", {})
    if method in ("post", "put", "patch"):  # BodySizeLimitMiddleware reads every body of these methods
        responses.setdefault(
            "413",
            _cross_cutting(
                PayloadTooLarge, "the body is larger than CRIER_MAX_BODY_BYTES", {"maxBytes": 1048576}
            ),
        )
    if path.startswith("/v1/"):  # per-key rate limit, counted while authenticating
        responses.setdefault(
            "429",
            _cross_cutting(
                RateLimited,
                "this API key's requests per minute are used up; retry after Retry-After seconds",
                {"limit": 600, "windowSeconds": 60, "retryAfterSeconds": 17},
                retry_after=True,
            ),
        )
    if path != "/healthz":  # everything else needs PostgreSQL
        responses.setdefault(
            "503",
            _cross_cutting(Unavailable, "PostgreSQL is unreachable; retry shortly", {}, retry_after=True),
        )
    conflict = responses.get("409", {}).get("content", {}).get("application/json", {}).get("examples", {})
    if "IDEMPOTENCY_IN_FLIGHT" in conflict:  # only that 409 carries it
        responses["409"].setdefault("headers", {})["Retry-After"] = {**_RETRY_AFTER_HEADER, "required": False}
    for response in responses.values():
        response.setdefault("headers", {})["X-Request-Id"] = _REQUEST_ID_HEADER


# FastAPI names a class defined twice by its module path (`crier__admin__schemas__MusicCatalogOut`).
_QUALIFIED_NAME = re.compile(
    r"^crier__(?P<capability>[a-z_]+?)__(?:[a-z_]+__)*(?P<name>[A-Za-z0-9]+)(?P<mode>-Input|-Output)?$"
)


def _unique_schema_names(schema: dict[str, Any]) -> dict[str, Any]:
    """Give same-named models of two capabilities readable, distinct names and titles.

    `crier__admin__schemas__MusicCatalogOut` becomes `AdminMusicCatalogOut`; any title still shared by
    two schemas (a model's -Input/-Output pair) becomes the schema's own name. Generators name classes
    by title, and drop one of two schemas that share it.
    """
    components = schema.get("components", {}).get("schemas", {})
    renames: dict[str, str] = {}
    for name in list(components):
        match = _QUALIFIED_NAME.match(name)
        if match:
            capability = "".join(part.capitalize() for part in match["capability"].split("_"))
            renames[name] = f"{capability}{match['name']}{match['mode'] or ''}"
    if renames:
        text = json.dumps(schema)
        for old, new in renames.items():
            text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
        schema = json.loads(text)
        components = schema["components"]["schemas"]
        schema["components"]["schemas"] = components = {
            renames.get(name, name): body for name, body in components.items()
        }
    titles: dict[str, int] = {}
    for body in components.values():
        titles[body.get("title", "")] = titles.get(body.get("title", ""), 0) + 1
    for name, body in components.items():
        if name in renames.values() or titles.get(body.get("title", ""), 0) > 1:
            body["title"] = name
    return schema


def _add_examples(schema: dict[str, Any]) -> None:
    """Examples from crier.api.examples where a model or a route has not given its own."""
    components = schema.get("components", {}).get("schemas", {})
    for name, example in SCHEMA_EXAMPLES.items():
        if name in components:
            components[name].setdefault("examples", [example])
    for methods in schema.get("paths", {}).values():
        for operation in methods.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in PARAMETER_EXAMPLES:
                    parameter.setdefault("example", PARAMETER_EXAMPLES[parameter["name"]])
            # An optional body is `anyOf: [model, null]`; UIs show no example for it unless given here.
            media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            for branch in media.get("schema", {}).get("anyOf", []):
                example = components.get(branch.get("$ref", "").rpartition("/")[2], {}).get("examples")
                if example and "example" not in media:
                    media["example"] = example[0]


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = _unique_schema_names(
            get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        )
        _add_examples(schema)
        components = schema.setdefault("components", {})
        components["securitySchemes"] = {
            "bearerAuth": {"type": "http", "scheme": "bearer", "description": "API key: lp_live_..."},
            "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            "adminToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "CRIER_ADMIN_TOKEN (operator API)",
            },
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

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the schema
