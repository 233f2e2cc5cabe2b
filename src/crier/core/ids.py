"""Prefixed ids (`sp_<uuid4>`) as the contract spells them."""

from __future__ import annotations

import os
import re
import uuid

PREFIXES = ("org", "key", "prj", "lyr", "sa", "cnt", "sp")


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4()}"


def new_ids(prefix: str, count: int) -> list[str]:
    """`count` fresh ids from one read of the OS's randomness (uuid4 reads it once per id)."""
    randomness = os.urandom(16 * count)
    return [
        f"{prefix}_{uuid.UUID(bytes=randomness[i : i + 16], version=4)}" for i in range(0, 16 * count, 16)
    ]


# A uuid in its canonical form (what str(uuid.UUID(...)) gives): lowercase hex, hyphenated 8-4-4-4-12.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_valid_id(value: str, prefix: str) -> bool:
    """True when `value` is `<prefix>_<uuid>` (any uuid version, canonical lowercase form)."""
    head, sep, tail = value.partition("_")
    return head == prefix and bool(sep) and _CANONICAL_UUID.fullmatch(tail) is not None
