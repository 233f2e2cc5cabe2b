"""SQL of the idempotency table: claims, takeovers of stale claims, stored answers, the purge."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Row, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crier.models import IdempotencyKey

RETENTION = timedelta(hours=24)
# These statements never touch rows loaded as objects: no identity-map bookkeeping needed.
_PLAIN = {"synchronize_session": False}


def _lock_until(lock_seconds: float) -> ColumnElement[datetime]:
    return func.now() + timedelta(seconds=lock_seconds)


def _scope(organization_id: str, method: str, path: str, key: str) -> tuple[ColumnElement[bool], ...]:
    return (
        IdempotencyKey.organization_id == organization_id,
        IdempotencyKey.method == method,
        IdempotencyKey.path == path,
        IdempotencyKey.key == key,
    )


async def insert_claim(
    session: AsyncSession,
    *,
    organization_id: str,
    method: str,
    path: str,
    key: str,
    request_hash: str,
    lock_seconds: float,
) -> tuple[int, datetime] | None:
    """Claim the key; None when a row for this scope already exists (the unique constraint decides)."""
    statement = (
        insert(IdempotencyKey)
        .values(
            organization_id=organization_id,
            method=method,
            path=path,
            key=key,
            request_hash=request_hash,
            created_at=func.now(),
            expires_at=func.now() + RETENTION,
            locked_until=_lock_until(lock_seconds),
        )
        .on_conflict_do_nothing(index_elements=["organization_id", "method", "path", "key"])
        .returning(IdempotencyKey.id, IdempotencyKey.locked_until)
    )
    row = (await session.execute(statement)).first()
    return None if row is None else (row.id, row.locked_until)


async def find(
    session: AsyncSession, *, organization_id: str, method: str, path: str, key: str
) -> Row[*tuple[Any, ...]] | None:
    """The row of this scope, with `expired` and `lock_expired` judged by the database clock."""
    statement = select(
        IdempotencyKey.id,
        IdempotencyKey.request_hash,
        IdempotencyKey.response_status,
        IdempotencyKey.response_headers,
        IdempotencyKey.response_body,
        (IdempotencyKey.expires_at <= func.now()).label("expired"),
        (func.coalesce(IdempotencyKey.locked_until, func.now()) <= func.now()).label("lock_expired"),
    ).where(*_scope(organization_id, method, path, key))
    return (await session.execute(statement)).first()


async def delete_if_expired(session: AsyncSession, *, row_id: int) -> None:
    await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.id == row_id, IdempotencyKey.expires_at <= func.now()),
        execution_options=_PLAIN,
    )


async def take_over(session: AsyncSession, *, row_id: int, lock_seconds: float) -> datetime | None:
    """Take a claim whose holder crashed (its lock ran out); only one of several callers gets it."""
    statement = (
        update(IdempotencyKey)
        .where(
            IdempotencyKey.id == row_id,
            IdempotencyKey.response_status.is_(None),
            IdempotencyKey.locked_until <= func.now(),
        )
        .values(locked_until=_lock_until(lock_seconds))
        .returning(IdempotencyKey.locked_until)
    )
    return (await session.execute(statement, execution_options=_PLAIN)).scalar_one_or_none()


async def store_response(
    session: AsyncSession, *, row_id: int, fence: datetime, status: int, headers: dict[str, Any], body: bytes
) -> bool:
    """Record the answer; False when the claim was taken over meanwhile (`fence` no longer ours)."""
    statement = (
        update(IdempotencyKey)
        .where(
            IdempotencyKey.id == row_id,
            IdempotencyKey.locked_until == fence,
            IdempotencyKey.response_status.is_(None),
        )
        .values(response_status=status, response_headers=headers, response_body=body, locked_until=None)
        .returning(IdempotencyKey.id)
    )
    return (await session.execute(statement, execution_options=_PLAIN)).first() is not None


async def release(session: AsyncSession, *, row_id: int, fence: datetime) -> None:
    """Drop an unanswered claim so the partner may retry with the same key."""
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.id == row_id,
            IdempotencyKey.locked_until == fence,
            IdempotencyKey.response_status.is_(None),
        ),
        execution_options=_PLAIN,
    )


async def purge_expired(session: AsyncSession, *, limit: int) -> int:
    """Delete up to `limit` rows past their retention; returns how many went."""
    doomed = (
        select(IdempotencyKey.id)
        .where(IdempotencyKey.expires_at <= func.now())
        .limit(limit)
        .scalar_subquery()
    )
    result = await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.id.in_(doomed)), execution_options=_PLAIN
    )
    return cast(CursorResult[Any], result).rowcount or 0
