"""Base for wire models: camelCase on the wire, unknown fields rejected (422 VALIDATION)."""

from __future__ import annotations

import enum
import math
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    GetPydanticSchema,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import core_schema

from crier.core.clock import to_wire
from crier.core.vocabulary import Mode, Platform, PostStatus

# Objects and arrays nest at most this deep in anything Crier stores (layer configs, overrides): deep
# enough for any real config, shallow enough that no recursive encoder or decoder can blow its stack.
MAX_JSON_DEPTH = 32


def unstorable(value: Any) -> str | None:
    """Why PostgreSQL could not store `value` (text or JSONB), or None; nested values included.

    JSON can spell a NUL (`\\u0000`), an unpaired surrogate (`\\ud800`) or a non-finite number
    (`1e400`): none of them fits a text column or JSONB, so they are a 422, not a database error.
    Walked with an explicit stack: a hostile document must not reach Python's recursion limit here.
    """
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "must not contain NUL characters"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "must be valid Unicode (no unpaired surrogates)"
        elif isinstance(item, float) and not math.isfinite(item):
            return "must be a finite number"
        elif isinstance(item, (dict, list, tuple)):
            if depth >= MAX_JSON_DEPTH:
                return f"must not nest objects and arrays more than {MAX_JSON_DEPTH} levels deep"
            children = [part for pair in item.items() for part in pair] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


def _storable(value: Any) -> Any:
    # Runs for every field of every body: the common plain values need no walk, nor does a member of
    # one of Crier's vocabularies (a mode, a platform: validated against its fixed words already).
    if (
        value is None
        or type(value) in (bool, int)
        or (type(value) is str and value.isascii() and "\x00" not in value)
        or isinstance(value, enum.Enum)
    ):
        return value
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


def _literal_of(words: type[enum.StrEnum]) -> GetPydanticSchema:
    # Validated and documented as the Literal of its values (an inline enum, `literal_error`
    # messages), exactly as the wire always had it, then turned into the member.
    literal = core_schema.literal_schema([word.value for word in words])
    return GetPydanticSchema(
        lambda _source, _handler: core_schema.no_info_after_validator_function(words, literal)
    )


# The vocabulary on the wire: plain strings in JSON and OpenAPI, the StrEnum member in Python. Annotated
# as `str` (which each member is): FastAPI gives every Enum it finds in a field or parameter annotation
# a component schema of its own, which nothing would reference.
WirePlatform = Annotated[str, _literal_of(Platform)]
WireMode = Annotated[str, _literal_of(Mode)]
WirePostStatus = Annotated[str, _literal_of(PostStatus)]


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
WireTime = Annotated[
    datetime,
    PlainSerializer(to_wire, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
