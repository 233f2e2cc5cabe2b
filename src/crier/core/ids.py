"""Prefixed ids (`sp_<uuid4>`) as the contract spells them."""

from __future__ import annotations

import os
import re
import uuid


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4()}"


def new_ids(prefix: str, count: int) -> list[str]:
    """`count` fresh ids from one read of the OS's randomness (uuid4 reads it once per id)."""
    randomness = bytearray(os.urandom(16 * count))
    for start in range(0, 16 * count, 16):  # what uuid.UUID(..., version=4) sets: version 4, RFC 4122 variant
        randomness[start + 6] = (randomness[start + 6] & 0x0F) | 0x40
        randomness[start + 8] = (randomness[start + 8] & 0x3F) | 0x80
    digits = randomness.hex()  # formatted here rather than through a UUID object per id (batches of 50)
    return [
        f"{prefix}_{digits[i : i + 8]}-{digits[i + 8 : i + 12]}-{digits[i + 12 : i + 16]}"
        f"-{digits[i + 16 : i + 20]}-{digits[i + 20 : i + 32]}"
        for i in range(0, 32 * count, 32)
    ]


# A uuid in its canonical form (what str(uuid.UUID(...)) gives): lowercase hex, hyphenated 8-4-4-4-12.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_valid_id(value: str, prefix: str) -> bool:
    """True when `value` is `<prefix>_<uuid>` (any uuid version, canonical lowercase form)."""
    head, sep, tail = value.partition("_")
    return head == prefix and bool(sep) and _CANONICAL_UUID.fullmatch(tail) is not None
