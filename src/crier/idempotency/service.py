"""Idempotency-Key semantics (CONTRACT §3): claim a key, replay its answer, or refuse.

Nothing here commits: the dependency runs a claim and a release each in a short unit of work of its
own, and records the answer in the request's session, which the request's unit of work commits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.errors import IdempotencyInFlight, IdempotencyKeyReused
from crier.core.settings import get_settings
from crier.idempotency import repository


def _lock_seconds() -> float:
    """A claim older than this is from a crashed or cut-off request (twice the statement timeout)."""
    return 2 * get_settings().database_statement_timeout_seconds


RETRY_AFTER_SECONDS = 1
_ATTEMPTS = 3


@dataclass(frozen=True)
class Scope:
    organization_id: str
    method: str
    path: str
    key: str


@dataclass(frozen=True)
class Claim:
    """This request owns the key; `fence` proves it still does when the answer is recorded."""

    row_id: int
    fence: datetime


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def request_hash(raw_body: bytes) -> str:
    """sha256 of the body as canonical JSON, so key order and whitespace do not count as a change."""
    try:
        document = json.loads(raw_body) if raw_body.strip() else {}
    except ValueError:  # bodies reach here validated; hash the bytes should one slip through
        return hashlib.sha256(raw_body).hexdigest()
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def in_flight() -> IdempotencyInFlight:
    return IdempotencyInFlight(
        details={"retryAfterSeconds": RETRY_AFTER_SECONDS}, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


async def claim(session: AsyncSession, *, scope: Scope, body_hash: str) -> Claim | StoredResponse:
    """Own the key, or get the answer it already has; 422 KEY_REUSED or 409 IN_FLIGHT otherwise."""
    where = dict(organization_id=scope.organization_id, method=scope.method, path=scope.path, key=scope.key)
    for _ in range(_ATTEMPTS):
        claimed = await repository.insert_claim(
            session, **where, request_hash=body_hash, lock_seconds=_lock_seconds()
        )
        if claimed is not None:
            return Claim(*claimed)
        row = await repository.find(session, **where)
        if row is None:  # purged between the two statements: claim again
            continue
        if row.expired:  # past its 24 hours: purge on read and start afresh
            await repository.delete_if_expired(session, row_id=row.id)
            continue
        if row.request_hash != body_hash:
            raise IdempotencyKeyReused(details={"idempotencyKey": scope.key})
        if row.response_status is not None:
            return StoredResponse(row.response_status, dict(row.response_headers or {}), row.response_body)
        if row.lock_expired:
            fence = await repository.take_over(session, row_id=row.id, lock_seconds=_lock_seconds())
            if fence is not None:
                return Claim(row.id, fence)
        raise in_flight()
    raise in_flight()


async def record(
    session: AsyncSession, *, claim: Claim, status: int, headers: dict[str, str], body: bytes
) -> bool:
    """Store the answer under the key; False when the claim was lost to a takeover."""
    return await repository.store_response(
        session, row_id=claim.row_id, fence=claim.fence, status=status, headers=headers, body=body
    )


async def release(session: AsyncSession, *, claim: Claim) -> None:
    """Forget an unanswered claim (a 5xx or a crash): the partner may retry with the same key."""
    await repository.release(session, row_id=claim.row_id, fence=claim.fence)


async def purge_expired_keys(session: AsyncSession, *, limit: int = 1000) -> int:
    """Delete keys past their 24-hour retention (the worker calls this periodically, then commits)."""
    return await repository.purge_expired(session, limit=limit)
