"""SQL of the quota ledger: paced call slots, stored limits, and the fenced write that defers a post.

Times are PostgreSQL's clock: every worker and API process agrees on when a window ends. The call
log uses clock_timestamp(), not now(): now() is the transaction's start, and a slot taken after
waiting for the advisory lock must be stamped when it is taken.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from crier.models import AccountQuota
from crier.webhooks.outbox import POST_EVENT_CTES, POST_EVENT_RETURNING

_JSON = JSONB(none_as_null=True)
# The call log doubles as the "sent in the last 24 h" ledger: keep a day and a bit.
_KEEP = "interval '26 hours'"


async def lock_call_log(session: AsyncSession, *, account_id: str, call: str) -> None:
    """Serialize slot-taking for one account's call kind until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"crier.pace/{account_id}/{call}"},
    )


async def own_reservation(
    session: AsyncSession, *, account_id: str, call: str, post_id: str
) -> tuple[int, float] | None:
    """The slot reserved earlier for this post: (id, seconds until it), or None."""
    row = (
        await session.execute(
            text("""
        SELECT id, extract(epoch FROM slot_at - clock_timestamp()) AS wait
        FROM platform_call_slots
        WHERE social_account_id = :account AND call = :call AND scheduled_post_id = :post
        ORDER BY slot_at LIMIT 1
    """),
            {"account": account_id, "call": call, "post": post_id},
        )
    ).first()
    return (row.id, float(row.wait)) if row else None


async def consume(session: AsyncSession, *, slot_id: int) -> None:
    """A reserved slot is being used now: it no longer belongs to a waiting post."""
    await session.execute(
        text("UPDATE platform_call_slots SET scheduled_post_id = NULL WHERE id = :id"), {"id": slot_id}
    )


async def drop_slot(session: AsyncSession, *, slot_id: int) -> None:
    await session.execute(text("DELETE FROM platform_call_slots WHERE id = :id"), {"id": slot_id})


async def next_slot_wait(
    session: AsyncSession, *, account_id: str, call: str, limit: int, window_seconds: float
) -> float:
    """Seconds from now until a new call keeps every window of `window_seconds` at ≤ `limit` calls.

    With fewer than `limit` calls (made or reserved) in the last window, now is safe. Otherwise the
    new slot goes after the last one and after the limit-th most recent one has left the window.
    """
    rows = (
        await session.execute(
            text("""
        SELECT extract(epoch FROM slot_at - clock_timestamp()) AS offset_seconds
        FROM platform_call_slots
        WHERE social_account_id = :account AND call = :call
          AND slot_at > clock_timestamp() - CAST(:window AS float8) * interval '1 second'
        ORDER BY slot_at DESC LIMIT :limit
    """),
            {"account": account_id, "call": call, "window": float(window_seconds), "limit": limit},
        )
    ).all()
    if len(rows) < limit:
        return 0.0
    newest, limit_th = float(rows[0].offset_seconds), float(rows[-1].offset_seconds)
    return max(0.0, newest, limit_th + window_seconds)


async def insert_slot(
    session: AsyncSession, *, account_id: str, call: str, wait_seconds: float, post_id: str | None
) -> None:
    await session.execute(
        text("""
        INSERT INTO platform_call_slots (social_account_id, call, slot_at, scheduled_post_id)
        VALUES (:account, :call, clock_timestamp() + CAST(:wait AS float8) * interval '1 second', :post)
    """),
        {"account": account_id, "call": call, "wait": float(wait_seconds), "post": post_id},
    )
    await session.execute(
        text(f"""
        DELETE FROM platform_call_slots
        WHERE social_account_id = :account AND call = :call AND slot_at < clock_timestamp() - {_KEEP}
    """),
        {"account": account_id, "call": call},
    )


async def sent_within(
    session: AsyncSession, *, account_id: str, call: str, window_seconds: float
) -> tuple[int, float | None]:
    """Calls made (not merely reserved) in the last window, and seconds until the oldest leaves it."""
    row = (
        await session.execute(
            text("""
        SELECT count(*) AS sent,
               extract(epoch FROM min(slot_at) + CAST(:window AS float8) * interval '1 second'
                                  - clock_timestamp()) AS frees
        FROM platform_call_slots
        WHERE social_account_id = :account AND call = :call AND scheduled_post_id IS NULL
          AND slot_at > clock_timestamp() - CAST(:window AS float8) * interval '1 second'
          AND slot_at <= clock_timestamp()
    """),
            {"account": account_id, "call": call, "window": float(window_seconds)},
        )
    ).one()
    return int(row.sent), (float(row.frees) if row.frees is not None else None)


async def find_quota(
    session: AsyncSession, *, account_id: str, name: str
) -> tuple[AccountQuota, float, float | None] | None:
    """The stored limit, its age in seconds, and seconds until it resets (None: unknown)."""
    row = (
        await session.execute(
            select(
                AccountQuota,
                text("extract(epoch FROM now() - account_quotas.observed_at)"),
                text("extract(epoch FROM account_quotas.resets_at - now())"),
            ).where(AccountQuota.social_account_id == account_id, AccountQuota.name == name)
        )
    ).first()
    if row is None:
        return None
    return row[0], float(row[1]), (float(row[2]) if row[2] is not None else None)


async def account_quotas(session: AsyncSession, *, account_id: str) -> list[AccountQuota]:
    return list(
        await session.scalars(
            select(AccountQuota)
            .where(AccountQuota.social_account_id == account_id)
            .order_by(AccountQuota.name)
        )
    )


async def save_quota(
    session: AsyncSession,
    *,
    account_id: str,
    name: str,
    limit: int | None,
    used: int,
    window_seconds: float,
    source: str,
    resets_in_seconds: float | None,
) -> None:
    await session.execute(
        text("""
        INSERT INTO account_quotas (social_account_id, name, window_seconds, "limit", used, resets_at, source,
                                    observed_at)
        VALUES (:account, :name, :window, :limit, :used,
                now() + CAST(:resets AS float8) * interval '1 second', :source, now())
        ON CONFLICT (social_account_id, name) DO UPDATE
        SET window_seconds = excluded.window_seconds, "limit" = excluded."limit", used = excluded.used,
            resets_at = excluded.resets_at, source = excluded.source, observed_at = excluded.observed_at
    """),
        {
            "account": account_id,
            "name": name,
            "window": int(window_seconds),
            "limit": limit,
            "used": used,
            "resets": resets_in_seconds,
            "source": source,
        },
    )


async def count_use(session: AsyncSession, *, account_id: str, name: str) -> None:
    await session.execute(
        text("UPDATE account_quotas SET used = used + 1 WHERE social_account_id = :account AND name = :name"),
        {"account": account_id, "name": name},
    )


async def defer_post(
    session: AsyncSession, *, post_id: str, attempt: int, due_in: float, error: dict[str, str] | None
) -> bool:
    """publishing → scheduled until the limit frees (fenced like every step write).

    attemptedAt is cleared: the wait is the platform's, not delivery time, so it must not count
    toward max_processing_seconds when the post goes again.
    """
    # Its webhook event (post.deferred) is written by the same statement (issue 11).
    result = await session.execute(
        text(f"""
        WITH changed AS (
            UPDATE scheduled_posts
            SET status = 'scheduled', due_at = now() + CAST(:due_in AS float8) * interval '1 second',
                deferred_until = now() + CAST(:due_in AS float8) * interval '1 second',
                last_error = :error, lease_expires_at = NULL, attempted_at = NULL, updated_at = now(),
                event_sequence = event_sequence + 1
            WHERE id = :id AND attempt = :attempt AND status = 'publishing'
            RETURNING {POST_EVENT_RETURNING}
        ), {POST_EVENT_CTES}
        SELECT count(*) FROM changed
    """).bindparams(bindparam("error", type_=_JSON)),
        {"id": post_id, "attempt": attempt, "due_in": float(due_in), "error": error},
    )
    changed: int = result.scalar_one()
    return changed == 1


async def queued_for(session: AsyncSession, *, account_id: str) -> int:
    """Posts of the account still to go out (scheduled or publishing), for preflight's projection."""
    return int(
        await session.scalar(
            text(
                "SELECT count(*) FROM scheduled_posts WHERE social_account_id = :account "
                "AND status IN ('scheduled', 'publishing')"
            ),
            {"account": account_id},
        )
        or 0
    )
