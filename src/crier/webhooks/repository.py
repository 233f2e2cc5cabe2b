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
from typing import Any

from sqlalchemy import delete, select, text, tuple_, update
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


async def find_endpoint(session: AsyncSession, *, organization_id: str, endpoint_id: str,
                        for_update: bool = False) -> WebhookEndpoint | None:
    statement = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.organization_id == organization_id
    ).execution_options(populate_existing=True)
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement)


async def page_endpoints(session: AsyncSession, *, organization_id: str, after: tuple[datetime, str] | None,
                         limit: int) -> list[WebhookEndpoint]:
    """Up to `limit` endpoints after `after`, oldest first."""
    statement = select(WebhookEndpoint).where(WebhookEndpoint.organization_id == organization_id)
    if after is not None:
        statement = statement.where(tuple_(WebhookEndpoint.created_at, WebhookEndpoint.id) > tuple_(*after))
    return list(await session.scalars(
        statement.order_by(WebhookEndpoint.created_at, WebhookEndpoint.id).limit(limit)))


async def save_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    await session.flush()
    await session.refresh(endpoint)
    return endpoint


async def delete_endpoint(session: AsyncSession, *, endpoint: WebhookEndpoint) -> None:
    """The endpoint and, by cascade, its deliveries (pending ones are never sent)."""
    await session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id),
                          execution_options={"synchronize_session": False})


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


async def page_deliveries(session: AsyncSession, *, endpoint_id: str, filters: DeliveryFilters,
                          before: tuple[datetime, str] | None, limit: int) -> list[WebhookDelivery]:
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


async def find_delivery(session: AsyncSession, *, organization_id: str,
                        delivery_id: str) -> tuple[WebhookDelivery, WebhookEvent] | None:
    row = (await session.execute(
        select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.organization_id == organization_id)
    )).first()
    return None if row is None else (row[0], row[1])


async def get_delivery(session: AsyncSession, *, delivery_id: str) -> WebhookDelivery:
    return (await session.scalars(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                                  .execution_options(populate_existing=True))).one()


async def insert_single_event(session: AsyncSession, *, endpoint: WebhookEndpoint, event_type: str,
                              data: dict[str, Any], project_id: str | None, post_id: str | None = None,
                              sequence: int | None = None, replay_of: str | None = None) -> str:
    """One event queued for one endpoint only; returns the delivery id."""
    row = (await session.execute(text(SINGLE_EVENT), {
        "endpoint_id": endpoint.id, "organization_id": endpoint.organization_id, "project_id": project_id,
        "type": event_type, "post_id": post_id, "sequence": sequence, "data": json.dumps(data),
        "replay_of": replay_of,
    })).one()
    return row.id


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
    event_id: str
    body: str


# Candidates: due rows of active endpoints whose post has no earlier event still open for that
# endpoint (per-endpoint, per-post order), at most :per_endpoint in flight per endpoint so that one
# slow receiver cannot take every slot. The lock is taken on the picked rows only (SKIP LOCKED).
_CLAIM = text("""
    WITH candidates AS (
        SELECT d.id, d.endpoint_id, d.next_retry_at,
               row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_retry_at, d.sequence, d.id) AS rank
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
    busy AS (
        SELECT endpoint_id, count(*) AS in_flight FROM webhook_deliveries
        WHERE status = 'delivering' AND next_retry_at > now()
          AND endpoint_id IN (SELECT endpoint_id FROM candidates)
        GROUP BY endpoint_id
    ),
    picked AS (
        SELECT d.id FROM webhook_deliveries d
        WHERE d.id IN (SELECT c.id FROM candidates c LEFT JOIN busy b USING (endpoint_id)
                       WHERE c.rank + coalesce(b.in_flight, 0) <= :per_endpoint)
          AND d.status IN ('pending', 'delivering') AND d.next_retry_at <= now()
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
              e.id AS event_id, e.body
""")


async def claim_due_deliveries(session: AsyncSession, *, limit: int, lease_seconds: float,
                               per_endpoint: int) -> list[ClaimedDelivery]:
    """Take up to `limit` due deliveries under a fresh lease and claim number."""
    if limit <= 0:
        return []
    rows = await session.execute(_CLAIM, {"limit": limit, "scan": limit * 4, "per_endpoint": per_endpoint,
                                          "lease": float(lease_seconds)})
    return [ClaimedDelivery(**row._mapping) for row in rows]


# The attempt's outcome and the endpoint's failure streak in one statement. A success on an endpoint
# whose streak is already 0 leaves the endpoint row alone (no lock taken on the hot path).
_RECORD = text(f"""
    WITH done AS (
        UPDATE webhook_deliveries
        SET status = :status,
            next_retry_at = CASE WHEN :status = 'pending'
                                 THEN now() + CAST(:delay AS float8) * interval '1 second' END,
            delivered_at = CASE WHEN :status = 'delivered' THEN now() END,
            last_response_status = :response_status,
            last_response_at = CASE WHEN CAST(:response_status AS int) IS NOT NULL THEN now()
                                    ELSE last_response_at END,
            last_response_body = :response_body, last_error_message = :error, updated_at = now()
        WHERE id = :id AND claim = :claim AND status = 'delivering'
        RETURNING endpoint_id
    ),
    streak AS (
        UPDATE webhook_endpoints AS w
        SET consecutive_failures = CASE WHEN :success THEN 0 ELSE w.consecutive_failures + 1 END,
            status = CASE WHEN NOT :success AND w.status = 'active'
                               AND w.consecutive_failures + 1 >= {AUTO_PAUSE_AFTER_FAILURES}
                          THEN 'auto_paused' ELSE w.status END,
            updated_at = now()
        FROM done
        WHERE w.id = done.endpoint_id AND (NOT :success OR w.consecutive_failures <> 0)
        RETURNING w.status
    )
    SELECT (SELECT count(*) FROM done) AS written, (SELECT status FROM streak) AS endpoint_status
""")


async def record_attempt(session: AsyncSession, *, delivery: ClaimedDelivery, status: str, success: bool,
                         delay: float | None, response_status: int | None, response_body: str | None,
                         error: str | None) -> tuple[bool, str | None]:
    """Write where the attempt took the delivery; (False, None) when the claim was lost."""
    row = (await session.execute(_RECORD, {
        "id": delivery.id, "claim": delivery.claim, "status": status, "success": success,
        "delay": float(delay or 0.0), "response_status": response_status, "response_body": response_body,
        "error": error,
    })).one()
    return row.written == 1, row.endpoint_status


async def abandon_stale(session: AsyncSession) -> int:
    """Pending for more than 72 h: abandoned. Also forgets previous secrets past their overlap."""
    result = await session.execute(text(f"""
        UPDATE webhook_deliveries
        SET status = 'abandoned', abandoned_at = now(), next_retry_at = NULL, updated_at = now()
        WHERE status = 'pending' AND created_at < now() - interval '{ABANDON_AFTER_SECONDS} seconds'
    """))
    await session.execute(text("""
        UPDATE webhook_endpoints SET previous_secret_encrypted = NULL, previous_secret_expires_at = NULL
        WHERE previous_secret_expires_at <= now()
    """))
    return result.rowcount
