"""What the sync and async clients share: headers, the retry decision, request bodies, answers."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from crier_sdk.errors import error_from_response
from crier_sdk.models import RequestModel, Target

VERSION = "0.1.0"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
ModelT = TypeVar("ModelT")


class _Omitted:
    """Marks a PATCH field the caller did not pass (None would mean "set to null")."""

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omitted()


def headers(api_key: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {api_key}",
        "User-Agent": f"crier-sdk-python/{VERSION}",
        "Accept": "application/json",
    }


def idempotency_headers(method: str, idempotency_key: str | None) -> dict[str, str]:
    """Every POST carries a key; one made here is reused for the SDK's own retries of the same call."""
    if method != "POST":
        return {}
    return {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}


def retry_delay(response: httpx.Response, attempt: int, *, max_retries: int, max_wait: float) -> float | None:
    """Seconds to wait before retrying `response`, or None to give up and raise.

    429 and 503 are retried, and 409 IDEMPOTENCY_IN_FLIGHT (our own earlier try is still running).
    Retry-After is honoured; when it asks for more than `max_wait`, waiting less would only be refused
    again, so the error is raised at once.
    """
    if attempt >= max_retries or not _retryable(response):
        return None
    asked = _retry_after_seconds(response.headers.get("retry-after"))
    if asked is None:
        return min(0.5 * 2**attempt, max_wait)
    return asked if asked <= max_wait else None


def _retryable(response: httpx.Response) -> bool:
    if response.status_code in (429, 503):
        return True
    if response.status_code == 409:
        try:
            return response.json()["error"]["code"] == "IDEMPOTENCY_IN_FLIGHT"
        except (ValueError, KeyError, TypeError):
            return False
    return False


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # an HTTP date
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def parse(response: httpx.Response, model: type[ModelT] | Any) -> ModelT:
    """The typed answer, or the typed error for an error status."""
    if response.status_code >= 400:
        raise error_from_response(response)
    return TypeAdapter(model).validate_python(response.json())


def parse_object(response: httpx.Response) -> dict[str, Any]:
    """An answer whose shape the contract leaves open, as a dict (an empty body is `{}`)."""
    if response.status_code >= 400:
        raise error_from_response(response)
    return TypeAdapter(dict[str, Any]).validate_python(response.json()) if response.content else {}


def check(response: httpx.Response) -> None:
    """Raise the typed error for an error status; the body (if any) is not needed."""
    if response.status_code >= 400:
        raise error_from_response(response)


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body: None and OMIT fields left out, models by alias, keys camelCased by the caller."""
    return {name: wire(value) for name, value in fields.items() if value is not None and value is not OMIT}


def patch_body(**fields: Any) -> dict[str, Any]:
    """A PATCH body: only the fields passed (None is sent as null)."""
    return {name: wire(value) for name, value in fields.items() if value is not OMIT}


def wire(value: Any) -> Any:
    if isinstance(value, RequestModel):
        return value.to_wire()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetimes sent to Crier must be timezone-aware")
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: wire(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire(item) for item in value]
    return value


def targets_body(targets: Iterable[Target | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Targets as models or as the wire's camelCase dicts (as the Layers pages write them)."""
    return [wire(target) for target in targets]


def query(**params: Any) -> dict[str, Any]:
    return {name: wire(value) for name, value in params.items() if value is not None}
