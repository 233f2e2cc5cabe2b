"""Prefixed ids (`sp_<uuid4>`) as the contract spells them."""

from __future__ import annotations

import os
import uuid


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4()}"


def new_ids(prefix: str, count: int) -> list[str]:
    """`count` fresh ids from one read of the OS's randomness (uuid4 reads it once per id)."""
    randomness = os.urandom(16 * count)
    return [
        f"{prefix}_{uuid.UUID(bytes=randomness[i : i + 16], version=4)}" for i in range(0, 16 * count, 16)
    ]


def is_valid_id(value: str, prefix: str) -> bool:
    """True when `value` is `<prefix>_<uuid>` (any uuid version, canonical lowercase form)."""
    head, sep, tail = value.partition("_")
    if head != prefix or not sep:
        return False
    try:
        return str(uuid.UUID(tail)) == tail
    except ValueError:
        return False
