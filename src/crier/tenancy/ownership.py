"""What belongs to whom: the organization a caller acts for, and one way to say "not yours"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NewType, TypeVar

from crier.core.errors import NotFound
from crier.core.ids import is_valid_id

# The organization an API key belongs to, as `authenticate` found it: every partner-facing lookup
# is scoped by it, so a signature that takes one says it serves only that organization's rows.
OrganizationId = NewType("OrganizationId", str)

T = TypeVar("T")


async def owned_or_404(
    find: Callable[[], Awaitable[T | None]], *, object_id: str, prefix: str, not_found: NotFound
) -> T:
    """What `find` returns, or `not_found` when it finds nothing or `object_id` is not a `prefix` id.

    `find` must look only among the caller's organization's rows: another organization's object
    answers exactly as a missing one does, never a hint that it exists. A malformed id costs no query.
    """
    found = await find() if is_valid_id(object_id, prefix) else None
    if found is None:
        raise not_found
    return found
