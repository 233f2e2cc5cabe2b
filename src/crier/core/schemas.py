"""Base for wire models: camelCase on the wire, unknown fields rejected (422 VALIDATION)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)
from pydantic.alias_generators import to_camel

from crier.core.clock import to_wire


def unstorable(value: Any) -> str | None:
    """Why PostgreSQL could not store `value` (text or JSONB), or None; nested values included.

    JSON can spell a NUL (`\\u0000`), an unpaired surrogate (`\\ud800`) or a non-finite number
    (`1e400`): none of them fits a text column or JSONB, so they are a 422, not a database error.
    """
    if isinstance(value, str):
        if "\x00" in value:
            return "must not contain NUL characters"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "must be valid Unicode (no unpaired surrogates)"
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if isinstance(value, dict):
        items = [item for pair in value.items() for item in pair]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        return None
    return next((problem for item in items if (problem := unstorable(item)) is not None), None)


def _storable(value: Any) -> Any:
    problem = unstorable(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00:00-05:00 is past datetime.max in UTC
        raise ValueError("is out of range once converted to UTC") from None


# For query parameters that reach SQL (bodies get the same check from WireModel).
StorableStr = Annotated[str, AfterValidator(_storable)]
# An RFC 3339 timestamp with an offset, normalized to UTC (refused when UTC cannot represent it).
UtcDateTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class WireModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @field_validator("*")
    @classmethod
    def _storable_values(cls, value: Any) -> Any:
        return _storable(value)


class ResponseModel(BaseModel):
    """Outgoing shapes: camelCase, serialized by alias."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True, from_attributes=True
    )


# RFC 3339 UTC with `Z` and milliseconds, as the contract writes every timestamp it answers with.
WireTime = Annotated[datetime, PlainSerializer(to_wire, return_type=str),
                     WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization")]
