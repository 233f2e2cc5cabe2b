"""SQL of the quota ledger: paced call slots, stored limits, and the fenced write that defers a post.

Times are PostgreSQL's clock: every worker and API process agrees on when a window ends. The call
log uses clock_timestamp(), not now(): now() is the transaction's start, and a slot taken after
waiting for the advisory lock must be stamped when it is taken.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.vocabulary import PostStatus
from crier.models import AccountQuota
from crier.quota.slots import CallLog, PaceRequest, SlotPlan
from crier.webhooks.outbox import POST_EVENT_CTES, POST_EVENT_RETURNING

_JSON = JSONB(none_as_null=True)
# The call log doubles as the "sent in the last 24 h" ledger: keep a day and a bit.
_KEEP = "interval '26 hours'"


# Per (account, call): the slots inside the widest window asked, latest first, as many as the batch
# can need; and the earliest slot reserved for each of the batch's posts inside that window (an older
# one lies outside every window: it no longer paces anything). Offsets are from one clock reading.
_READ_LOGS = text("""
    WITH clock AS MATERIALIZED (SELECT clock_timestamp() AS now),
    wanted AS (
        SELECT * FROM unnest(CAST(:accounts AS text[]), CAST(:calls AS text[]), CAST(:windows AS float8[]),
                             CAST(:depths AS int[])) AS w(account, call, window_seconds, depth)
    )
    SELECT w.account, w.call, s.id, s.offset_seconds, NULL AS post_id
    FROM wanted AS w CROSS JOIN LATERAL (
        SELECT p.id, extract(epoch FROM p.slot_at - clock.now)::float8 AS offset_seconds
        FROM platform_call_slots AS p, clock
        WHERE p.social_account_id = w.account AND p.call = w.call
          AND p.slot_at > clock.now - w.window_seconds * interval '1 second'
        ORDER BY p.slot_at DESC LIMIT w.depth
    ) AS s
    UNION ALL
    SELECT * FROM (
        SELECT DISTINCT ON (p.social_account_id, p.call, p.scheduled_post_id)
               p.social_account_id, p.call, p.id, extract(epoch FROM p.slot_at - clock.now)::float8,
               p.scheduled_post_id
        FROM wanted AS w JOIN platform_call_slots AS p ON p.social_account_id = w.account AND p.call = w.call,
             clock
        WHERE p.scheduled_post_id = ANY(CAST(:posts AS text[]))
          AND p.slot_at > clock.now - w.window_seconds * interval '1 second'
        ORDER BY p.social_account_id, p.call, p.scheduled_post_id, p.slot_at
    ) AS reservations
""")

# New slots are stamped from this statement's clock, a little after the reading: every gap the plan
# left stays at least as wide. Old entries go with each write (the log doubles as the 24 h ledger).
_WRITE_LOGS = text(f"""
    WITH clock AS MATERIALIZED (SELECT clock_timestamp() AS now),
    added AS (
        INSERT INTO platform_call_slots (social_account_id, call, slot_at, scheduled_post_id)
        SELECT n.account, n.call, clock.now + n.offset_seconds * interval '1 second', n.post_id
        FROM unnest(CAST(:new_accounts AS text[]), CAST(:new_calls AS text[]), CAST(:new_offsets AS float8[]),
                    CAST(:new_posts AS text[])) AS n(account, call, offset_seconds, post_id), clock
    ),
    consumed AS (
        UPDATE platform_call_slots SET scheduled_post_id = NULL WHERE id = ANY(CAST(:consumed AS bigint[]))
    ),
    dropped AS (
        DELETE FROM platform_call_slots WHERE id = ANY(CAST(:dropped AS bigint[]))
    )
    DELETE FROM platform_call_slots AS p
    USING unnest(CAST(:accounts AS text[]), CAST(:calls AS text[])) AS w(account, call), clock
    WHERE p.social_account_id = w.account AND p.call = w.call AND p.slot_at < clock.now - {_KEEP}
      AND p.id <> ALL(CAST(:dropped AS bigint[]))
""")


async def lock_call_logs(session: AsyncSession, keys: list[tuple[str, str]]) -> None:
    """Serialize slot-taking on these (account, call) logs until the transaction ends.

    Locks go in one order (by their key's hash) so two batches never wait for each other in a cycle.
    """
    await session.execute(
        text("""
        SELECT pg_advisory_xact_lock(h)
        FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest(CAST(:keys AS text[])) AS k ORDER BY h) AS o
    """),
        {"keys": [f"crier.pace/{account}/{call}" for account, call in keys]},
    )


async def read_call_logs(
    session: AsyncSession, requests: list[PaceRequest]
) -> dict[tuple[str, str], CallLog]:
    """The logs the requests pace on, as slots.plan_slots needs them (read under their locks)."""
    wanted: dict[tuple[str, str], list[float]] = {}  # (account, call) -> [widest window, depth]
    posts: set[str] = set()
    for request in requests:
        window, depth = wanted.setdefault(request.log_key, [0.0, 0])
        # Deep enough for the largest limit, plus one per reservation the batch may drop.
        depth = max(depth, request.limit) + (1 if request.post_id is not None else 0)
        wanted[request.log_key] = [max(window, request.window_seconds), depth]
        if request.post_id is not None:
            posts.add(request.post_id)
    rows = await session.execute(
        _READ_LOGS,
        {
            "accounts": [account for account, _ in wanted],
            "calls": [call for _, call in wanted],
            "windows": [float(window) for window, _ in wanted.values()],
            "depths": [int(depth) for _, depth in wanted.values()],
            "posts": sorted(posts),
        },
    )
    logs = {key: CallLog() for key in wanted}
    for account, call, slot_id, offset, post_id in rows:
        log = logs[(account, call)]
        if post_id is None:
            log.offsets[slot_id] = offset
        else:
            log.reserved[post_id] = (slot_id, offset)
            log.offsets.setdefault(slot_id, offset)  # reserved slots pace the others like any slot
    return logs


async def write_call_logs(session: AsyncSession, plan: SlotPlan, keys: list[tuple[str, str]]) -> None:
    """Write the plan: new slots, reservations taken or dropped; entries past the 24 h ledger go."""
    await session.execute(
        _WRITE_LOGS,
        {
            "new_accounts": [slot[0] for slot in plan.new_slots],
            "new_calls": [slot[1] for slot in plan.new_slots],
            "new_offsets": [float(slot[2]) for slot in plan.new_slots],
            "new_posts": [slot[3] for slot in plan.new_slots],
            "consumed": plan.consumed,
            "dropped": plan.dropped,
            "accounts": [account for account, _ in keys],
            "calls": [call for _, call in keys],
        },
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


# A stored limit (its columns by attribute), its age in seconds, seconds until it resets (None: unknown).
FoundQuota = tuple[Any, float, float | None]

_FIND_QUOTAS = text("""
    SELECT q.social_account_id, q.name, q.window_seconds, q."limit", q.used, q.source, q.resets_at, q.observed_at,
           extract(epoch FROM now() - q.observed_at)::float8 AS age,
           extract(epoch FROM q.resets_at - now())::float8 AS resets_in
    FROM account_quotas AS q
    JOIN unnest(CAST(:accounts AS text[]), CAST(:names AS text[])) AS w(account, name)
      ON q.social_account_id = w.account AND q.name = w.name
""")


async def find_quotas(
    session: AsyncSession, wanted: list[tuple[str, str]]
) -> dict[tuple[str, str], FoundQuota]:
    """The stored limits of these (account, name) pairs, in one query; pairs without one are absent."""
    rows = await session.execute(
        _FIND_QUOTAS, {"accounts": [account for account, _ in wanted], "names": [name for _, name in wanted]}
    )
    return {(row.social_account_id, row.name): (row, row.age, row.resets_in) for row in rows}


async def find_quota(session: AsyncSession, *, account_id: str, name: str) -> FoundQuota | None:
    """The stored limit, its age in seconds, and seconds until it resets (None: unknown)."""
    return (await find_quotas(session, [(account_id, name)])).get((account_id, name))


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
    session: AsyncSession, *, post_id: str, fence: int, due_in: float, error: dict[str, str] | None
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
            SET status = '{PostStatus.SCHEDULED}', due_at = now() + CAST(:due_in AS float8) * interval '1 second',
                deferred_until = now() + CAST(:due_in AS float8) * interval '1 second',
                last_error = :error, lease_expires_at = NULL, attempted_at = NULL, updated_at = now(),
                event_sequence = event_sequence + 1
            WHERE id = :id AND attempt = :fence AND status = '{PostStatus.PUBLISHING}'
            RETURNING {POST_EVENT_RETURNING}
        ), {POST_EVENT_CTES}
        SELECT count(*) FROM changed
    """).bindparams(bindparam("error", type_=_JSON)),
        {"id": post_id, "fence": fence, "due_in": float(due_in), "error": error},
    )
    changed: int = result.scalar_one()
    return changed == 1


async def queued_for(session: AsyncSession, *, account_id: str) -> int:
    """Posts of the account still to go out (scheduled or publishing), for preflight's projection."""
    return int(
        await session.scalar(
            text(
                "SELECT count(*) FROM scheduled_posts WHERE social_account_id = :account "
                f"AND status IN ('{PostStatus.SCHEDULED}', '{PostStatus.PUBLISHING}')"
            ),
            {"account": account_id},
        )
        or 0
    )
