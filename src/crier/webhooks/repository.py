"""All webhook SQL: endpoints, the deliveries log, single events (ping, replay), and the sender's claim.

The sender's statements follow the posts' discipline (delivery/repository.py): one claim statement
with FOR UPDATE SKIP LOCKED that bumps `claim` (the fencing token) and leases the row (its
next_retry_at is the lease end, so a dead sender's delivery becomes due again), and result writes
fenced on (id, claim, status='delivering'). Times come from PostgreSQL's now().
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    Boolean,
    CursorResult,
    Float,
    Integer,
    Text,
    bindparam,
    delete,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from crier.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from crier.webhooks.outbox import SINGLE_EVENT
from crier.webhooks.policy import ABANDON_AFTER_SECONDS, AUTO_PAUSE_AFTER_FAILURES

# --------------------------------------------------------------------------------------------------
# Endpoints


async def add_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    session.add(endpoint)
    await session.flush()
    await session.refresh(endpoint)
    return endpoint


async def find_endpoint(
    session: AsyncSession, *, organization_id: str, endpoint_id: str, for_update: bool = False
) -> WebhookEndpoint | None:
    statement = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.organization_id == organization_id)
        .execution_options(populate_existing=True)
    )
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement)


async def page_endpoints(
    session: AsyncSession, *, organization_id: str, after: tuple[datetime, str] | None, limit: int
) -> list[WebhookEndpoint]:
    """Up to `limit` endpoints after `after`, oldest first."""
    statement = select(WebhookEndpoint).where(WebhookEndpoint.organization_id == organization_id)
    if after is not None:
        statement = statement.where(tuple_(WebhookEndpoint.created_at, WebhookEndpoint.id) > tuple_(*after))
    return list(
        await session.scalars(statement.order_by(WebhookEndpoint.created_at, WebhookEndpoint.id).limit(limit))
    )


async def save_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    await session.flush()
    await session.refresh(endpoint)
    return endpoint


async def delete_endpoint(session: AsyncSession, *, endpoint: WebhookEndpoint) -> None:
    """Its open deliveries abandoned (never sent; a POST under way has its outcome fenced out), then
    the endpoint; every delivery row stays, its endpoint_id set NULL by the foreign key."""
    await session.execute(
        text("""
        UPDATE webhook_deliveries
        SET status = 'abandoned', abandoned_at = now(), next_retry_at = NULL, updated_at = now()
        WHERE endpoint_id = :endpoint_id AND status IN ('pending', 'delivering')
    """),
        {"endpoint_id": endpoint.id},
    )
    await session.execute(
        delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id),
        execution_options={"synchronize_session": False},
    )


async def release_pending(session: AsyncSession, *, endpoint_id: str) -> None:
    """On re-activation: whatever is still pending is due now (ordering still applies in the claim)."""
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "pending")
        .values(next_retry_at=text("least(next_retry_at, now())"), updated_at=text("now()")),
        execution_options={"synchronize_session": False},
    )


# --------------------------------------------------------------------------------------------------
# Deliveries log, ping and replay


@dataclass(frozen=True)
class DeliveryFilters:
    status: str | None = None
    event_type: str | None = None


async def page_deliveries(
    session: AsyncSession,
    *,
    endpoint_id: str,
    filters: DeliveryFilters,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[WebhookDelivery]:
    """Up to `limit` deliveries of the endpoint, newest first, older than `before`."""
    # (endpoint_id, created_at, id) is ix_webhook_deliveries_endpoint_log: a deep page starts at the cursor.
    statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if filters.status is not None:
        statement = statement.where(WebhookDelivery.status == filters.status)
    if filters.event_type is not None:
        statement = statement.where(WebhookDelivery.event_type == filters.event_type)
    if before is not None:
        statement = statement.where(tuple_(WebhookDelivery.created_at, WebhookDelivery.id) < tuple_(*before))
    statement = statement.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit)
    return list(await session.scalars(statement))


async def find_delivery(
    session: AsyncSession, *, organization_id: str, delivery_id: str
) -> tuple[WebhookDelivery, WebhookEvent] | None:
    row = (
        await session.execute(
            select(WebhookDelivery, WebhookEvent)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.organization_id == organization_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def get_delivery(session: AsyncSession, *, delivery_id: str) -> WebhookDelivery:
    return (
        await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .execution_options(populate_existing=True)
        )
    ).one()


async def insert_single_event(
    session: AsyncSession,
    *,
    endpoint: WebhookEndpoint,
    event_type: str,
    data: dict[str, Any],
    project_id: str | None,
    post_id: str | None = None,
    sequence: int | None = None,
    replay_of: str | None = None,
) -> str:
    """One event queued for one endpoint only; returns the delivery id."""
    row = (
        await session.execute(
            text(SINGLE_EVENT),
            {
                "endpoint_id": endpoint.id,
                "organization_id": endpoint.organization_id,
                "project_id": project_id,
                "type": event_type,
                "post_id": post_id,
                "sequence": sequence,
                "data": json.dumps(data),
                "replay_of": replay_of,
            },
        )
    ).one()
    delivery_id: str = row.id
    return delivery_id


# --------------------------------------------------------------------------------------------------
# The sender


@dataclass(frozen=True)
class ClaimedDelivery:
    id: str
    claim: int  # the fencing token this claim owns
    attempts: int  # including the one about to be made
    endpoint_id: str
    url: str
    secret_encrypted: str
    previous_secret_encrypted: str | None  # still signing (within 24 h of a rotation)
    endpoint_failures: int  # the endpoint's failure streak when claimed
    event_id: str
    body: str


# Candidates: due rows of active endpoints whose post has no earlier event still open for that
# endpoint (per-endpoint, per-post order), at most :per_endpoint in flight per endpoint so that one
# slow receiver cannot take every slot. The lock is taken on the picked rows only (SKIP LOCKED).
_CLAIM = text("""
    WITH due AS (
        SELECT d.id, d.endpoint_id, d.next_retry_at, d.sequence
        FROM webhook_deliveries d
        JOIN webhook_endpoints w ON w.id = d.endpoint_id AND w.status = 'active'
        WHERE d.status IN ('pending', 'delivering') AND d.next_retry_at <= now()
          AND (d.post_id IS NULL OR NOT EXISTS (
                SELECT 1 FROM webhook_deliveries p
                WHERE p.endpoint_id = d.endpoint_id AND p.post_id = d.post_id AND p.sequence < d.sequence
                  AND p.status IN ('pending', 'delivering')))
        ORDER BY d.next_retry_at
        LIMIT :scan
    ),
    candidates AS (
        SELECT id, endpoint_id, next_retry_at,
               row_number() OVER (PARTITION BY endpoint_id ORDER BY next_retry_at, sequence, id) AS rank
        FROM due
    ),
    busy AS MATERIALIZED (  -- counted once: a generic plan would count it again for every candidate
        SELECT endpoint_id, count(*) AS in_flight FROM webhook_deliveries
        WHERE status = 'delivering' AND next_retry_at > now()
          AND endpoint_id IN (SELECT endpoint_id FROM candidates)
        GROUP BY endpoint_id
    ),
    -- The eligible ids as one array, looked up by primary key. A semi-join here was planned as a
    -- nested loop rescanning the candidates for every due row (2000 due: 1.6 s a claim, issue 11);
    -- the status test is spelled so that the due index cannot serve it, which leaves the key.
    picked AS (
        SELECT d.id FROM webhook_deliveries d
        WHERE d.id = ANY (ARRAY(SELECT c.id FROM candidates c LEFT JOIN busy b USING (endpoint_id)
                                WHERE c.rank + coalesce(b.in_flight, 0) <= :per_endpoint))
          AND d.status NOT IN ('delivered', 'failed', 'abandoned') AND d.next_retry_at <= now()
        ORDER BY d.next_retry_at
        LIMIT :limit
        FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE webhook_deliveries AS d
    SET status = 'delivering', claim = d.claim + 1, attempts = d.attempts + 1,
        next_retry_at = now() + CAST(:lease AS float8) * interval '1 second', updated_at = now()
    FROM picked, webhook_events e, webhook_endpoints w
    WHERE d.id = picked.id AND e.id = d.event_id AND w.id = d.endpoint_id
    RETURNING d.id, d.claim, d.attempts, d.endpoint_id, w.url, w.secret_encrypted,
              CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret_encrypted END
                  AS previous_secret_encrypted,
              w.consecutive_failures AS endpoint_failures, e.id AS event_id, e.body
""")


async def claim_due_deliveries(
    session: AsyncSession, *, limit: int, lease_seconds: float, per_endpoint: int
) -> list[ClaimedDelivery]:
    """Take up to `limit` due deliveries under a fresh lease and claim number."""
    if limit <= 0:
        return []
    rows = await session.execute(
        _CLAIM,
        {"limit": limit, "scan": limit * 4, "per_endpoint": per_endpoint, "lease": float(lease_seconds)},
    )
    return [ClaimedDelivery(**row._mapping) for row in rows]


@dataclass(frozen=True)
class AttemptRecord:
    """One finished attempt, as the sender hands it to record_attempts."""

    delivery: ClaimedDelivery
    status: str  # pending (retry), delivered or failed
    success: bool
    delay: float | None
    response_status: int | None
    response_body: str | None
    error: str | None


# Every outcome of a batch in one statement, each fenced on (id, claim, status='delivering').
_RECORD = text("""
    UPDATE webhook_deliveries AS d
    SET status = o.status,
        next_retry_at = CASE WHEN o.status = 'pending' THEN now() + o.delay * interval '1 second' END,
        delivered_at = CASE WHEN o.status = 'delivered' THEN now() END,
        last_response_status = o.response_status,
        last_response_at = CASE WHEN o.response_status IS NOT NULL THEN now() ELSE d.last_response_at END,
        last_response_body = o.response_body, last_error_message = o.error, updated_at = now()
    FROM unnest(:ids, :claims, :statuses, :delays, :response_statuses, :response_bodies, :errors)
         AS o(id, claim, status, delay, response_status, response_body, error)
    WHERE d.id = o.id AND d.claim = o.claim AND d.status = 'delivering'
    RETURNING d.id
""").bindparams(
    bindparam("ids", type_=ARRAY(Text)),
    bindparam("claims", type_=ARRAY(Integer)),
    bindparam("statuses", type_=ARRAY(Text)),
    bindparam("delays", type_=ARRAY(Float)),
    bindparam("response_statuses", type_=ARRAY(Integer)),
    bindparam("response_bodies", type_=ARRAY(Text)),
    bindparam("errors", type_=ARRAY(Text)),
)

# The endpoints' failure streaks: `trailing` failures after the batch's last success (or all of the
# batch's failures on top of the stored streak when none succeeded). A success on an endpoint whose
# streak is already 0 leaves its row alone: no lock on the hot path.
_STREAK = text(f"""
    UPDATE webhook_endpoints AS w
    SET consecutive_failures = CASE WHEN s.reset THEN s.tail_failures ELSE w.consecutive_failures + s.tail_failures END,
        status = CASE WHEN w.status = 'active' AND (CASE WHEN s.reset THEN s.tail_failures
                                                          ELSE w.consecutive_failures + s.tail_failures END)
                                                    >= {AUTO_PAUSE_AFTER_FAILURES}
                      THEN 'auto_paused' ELSE w.status END,
        updated_at = now()
    FROM unnest(:endpoint_ids, :resets, :trailing) AS s(endpoint_id, reset, tail_failures)
    WHERE w.id = s.endpoint_id AND (s.tail_failures > 0 OR w.consecutive_failures <> 0)
    RETURNING w.id, w.status
""").bindparams(
    bindparam("endpoint_ids", type_=ARRAY(Text)),
    bindparam("resets", type_=ARRAY(Boolean)),
    bindparam("trailing", type_=ARRAY(Integer)),
)


async def record_attempts(session: AsyncSession, records: list[AttemptRecord]) -> tuple[set[str], set[str]]:
    """Write where each attempt took its delivery (in completion order); returns the delivery ids
    written (the others' claims were lost) and the endpoints this batch auto-paused."""
    if not records:
        return set(), set()
    written = set(
        await session.scalars(
            _RECORD,
            {
                "ids": [r.delivery.id for r in records],
                "claims": [r.delivery.claim for r in records],
                "statuses": [r.status for r in records],
                "delays": [float(r.delay or 0.0) for r in records],
                "response_statuses": [r.response_status for r in records],
                "response_bodies": [r.response_body for r in records],
                "errors": [r.error for r in records],
            },
        )
    )
    streaks: dict[str, list[int | bool]] = {}  # endpoint → [reset, trailing failures]
    for r in records:
        if r.delivery.id not in written:
            continue
        streak = streaks.setdefault(r.delivery.endpoint_id, [False, 0])
        if r.success:
            streak[0], streak[1] = True, 0
        else:
            streak[1] += 1
    # Only successes on endpoints that had no streak when claimed: nothing to change (the hot path).
    stored = {r.delivery.endpoint_id: r.delivery.endpoint_failures for r in records}
    streaks = {endpoint: v for endpoint, v in streaks.items() if v[1] or stored[endpoint]}
    paused: set[str] = set()
    if streaks:
        rows = await session.execute(
            _STREAK,
            {
                "endpoint_ids": list(streaks),
                "resets": [bool(v[0]) for v in streaks.values()],
                "trailing": [int(v[1]) for v in streaks.values()],
            },
        )
        paused = {row.id for row in rows if row.status == "auto_paused"}
    return written, paused


async def renew_leases(
    session: AsyncSession, deliveries: list[ClaimedDelivery], *, lease_seconds: float
) -> None:
    """Extend the lease of claims this sender still holds (fenced on the claim)."""
    await session.execute(
        text("""
        UPDATE webhook_deliveries AS d
        SET next_retry_at = now() + CAST(:lease AS float8) * interval '1 second'
        FROM unnest(:ids, :claims) AS r(id, claim)
        WHERE d.id = r.id AND d.claim = r.claim AND d.status = 'delivering'
    """).bindparams(bindparam("ids", type_=ARRAY(Text)), bindparam("claims", type_=ARRAY(Integer))),
        {
            "ids": [d.id for d in deliveries],
            "claims": [d.claim for d in deliveries],
            "lease": float(lease_seconds),
        },
    )


async def release_unsent(session: AsyncSession, deliveries: list[ClaimedDelivery]) -> None:
    """Claimed but never sent (the sender is stopping): due again now, the attempt not counted."""
    if not deliveries:
        return
    await session.execute(
        text("""
        UPDATE webhook_deliveries AS d SET status = 'pending', attempts = d.attempts - 1, next_retry_at = now(),
               updated_at = now()
        FROM unnest(:ids, :claims) AS r(id, claim)
        WHERE d.id = r.id AND d.claim = r.claim AND d.status = 'delivering'
    """).bindparams(bindparam("ids", type_=ARRAY(Text)), bindparam("claims", type_=ARRAY(Integer))),
        {"ids": [d.id for d in deliveries], "claims": [d.claim for d in deliveries]},
    )


async def abandon_stale(session: AsyncSession) -> int:
    """Pending for more than 72 h: abandoned. Also forgets previous secrets past their overlap."""
    result = await session.execute(
        text(f"""
        UPDATE webhook_deliveries
        SET status = 'abandoned', abandoned_at = now(), next_retry_at = NULL, updated_at = now()
        WHERE status = 'pending' AND created_at < now() - interval '{ABANDON_AFTER_SECONDS} seconds'
    """)
    )
    await session.execute(
        text("""
        UPDATE webhook_endpoints SET previous_secret_encrypted = NULL, previous_secret_expires_at = NULL
        WHERE previous_secret_expires_at <= now()
    """)
    )
    return cast(CursorResult[Any], result).rowcount
