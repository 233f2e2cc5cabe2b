"""The transactional outbox: SQL that writes event and delivery rows inside the state change's statement.

Every state change a partner can subscribe to adds these CTEs to the statement (or, for the rare
ORM-shaped writes, runs one helper statement in the same transaction), so a rolled-back change
emits nothing and a committed one has its events committed with it. The event rows are written only
when the organization has an endpoint that wants the event (one index probe on
webhook_endpoints.organization_id), so a tenant without webhooks pays one EXISTS per change.

The source of a post event is a CTE named `changed` with the columns of POST_EVENT_COLUMNS (an
UPDATE/INSERT ... RETURNING them): a data-modifying CTE's other parts see the table as it was before
the statement, so the new values must come from RETURNING, not from scheduled_posts.
"""

from __future__ import annotations

from sqlalchemy import ARRAY, Text, bindparam, column, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import CTE

from crier.webhooks.events import DEFERRED_EVENT, POST_EVENT_BY_STATUS

POST_EVENT_COLUMNS = (
    "id",
    "organization_id",
    "project_id",
    "container_id",
    "social_account_id",
    "platform",
    "mode",
    "status",
    "scheduled_for",
    "external_id",
    "external_url",
    "published_at",
    "last_error",
    "canceled_at",
    "event_sequence",
    "deferred_until",
)
POST_EVENT_RETURNING = ", ".join(POST_EVENT_COLUMNS)


def wire_time(expression: str) -> str:
    """SQL rendering a timestamptz the way the contract writes times (RFC 3339, milliseconds, Z)."""
    return f"""to_char({expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""


_STATUS_TO_TYPE = ", ".join(f"('{status}', '{event}')" for status, event in POST_EVENT_BY_STATUS.items())

# An endpoint that wants `type` for an event of (organization, project).
_WANTS = """w.organization_id = {src}.organization_id
            AND (w.project_id IS NULL OR w.project_id = {src}.project_id) AND {type} = ANY(w.events)"""

# `events` (RETURNING what deliveries need) then `deliveries`, given a CTE `source` with the columns
# id, organization_id, project_id, type, post_id, sequence, data. OFFSET 0 keeps the subquery from
# being flattened, so webhook_event_id() runs once per row and the id in the body is the row's id.
_EVENTS_AND_DELIVERIES = """
    events AS (
        INSERT INTO webhook_events (id, organization_id, project_id, type, post_id, sequence, body)
        SELECT e.id, e.organization_id, e.project_id, e.type, e.post_id, e.sequence,
               jsonb_build_object('id', e.id, 'type', e.type, 'createdAt', {created_at},
                                  'organizationId', e.organization_id, 'projectId', e.project_id,
                                  'data', e.data)::text
        FROM (SELECT webhook_event_id() AS id, s.* FROM {source} s
              WHERE EXISTS (SELECT 1 FROM webhook_endpoints w WHERE {wants_s}) OFFSET 0) e
        RETURNING id, organization_id, project_id, type, post_id, sequence
    ),
    deliveries AS (
        INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, post_id, sequence)
        SELECT 'whd_' || gen_random_uuid(), ev.organization_id, w.id, ev.id, ev.type, ev.post_id, ev.sequence
        FROM events ev JOIN webhook_endpoints w ON {wants_ev}
        RETURNING 1
    )""".format(
    created_at=wire_time("now()"),
    source="{source}",
    wants_s=_WANTS.format(src="s", type="s.type"),
    wants_ev=_WANTS.format(src="ev", type="ev.type"),
)

_POST_SOURCE = f"""
    post_events AS (
        SELECT c.organization_id, c.project_id,
               -- Back to `scheduled` with a deferral is the Crier extension post.deferred, not a new schedule.
               CASE WHEN c.status = 'scheduled' AND c.deferred_until IS NOT NULL THEN '{DEFERRED_EVENT}'
                    ELSE t.type END AS type,
               c.id AS post_id, c.event_sequence AS sequence,
               jsonb_build_object(
                   'scheduledPostId', c.id, 'containerId', c.container_id,
                   'socialAccountId', c.social_account_id, 'platform', c.platform, 'mode', c.mode,
                   'scheduledFor', {wire_time("c.scheduled_for")}, 'status', c.status,
                   'sequence', c.event_sequence)
               || CASE c.status
                    WHEN 'published' THEN jsonb_build_object(
                        'externalId', c.external_id, 'externalUrl', c.external_url,
                        'publishedAt', {wire_time("c.published_at")})
                    WHEN 'draft' THEN jsonb_build_object('externalId', c.external_id)
                    WHEN 'failed' THEN jsonb_build_object('lastError', c.last_error)
                    WHEN 'canceled' THEN jsonb_build_object('canceledAt', {wire_time("c.canceled_at")})
                    WHEN 'scheduled' THEN CASE WHEN c.deferred_until IS NULL THEN '{{}}'::jsonb
                        ELSE jsonb_build_object('deferredUntil', {wire_time("c.deferred_until")},
                                                'lastError', c.last_error) END
                    ELSE '{{}}'::jsonb END AS data
        FROM changed c JOIN (VALUES {_STATUS_TO_TYPE}) AS t(status, type) ON t.status = c.status
    ),"""

# Append after `WITH changed AS (... RETURNING POST_EVENT_RETURNING)`: a comma, then these.
POST_EVENT_CTES = _POST_SOURCE + _EVENTS_AND_DELIVERIES.format(source="post_events")


def post_event_ctes() -> list[CTE]:
    """POST_EVENT_CTES as SQLAlchemy CTEs, for statements built with the expression language.

    Use as `select(changed.c.id).add_cte(changed, *post_event_ctes())`, `changed` being the
    state change's `.returning(POST_EVENT_COLUMNS).cte("changed")` (add_cte keeps this order).
    """
    source, events, deliveries = _split(POST_EVENT_CTES)
    return [
        text(source).columns(column("post_id")).cte("post_events"),
        text(events).columns(column("id")).cte("events"),
        text(deliveries).columns(column("one")).cte("deliveries"),
    ]


def _split(ctes: str) -> list[str]:
    """The bodies of `name AS (...)` entries of a CTE list (parentheses balanced, no strings with parens)."""
    bodies, depth, start = [], 0, None
    for index, char in enumerate(ctes):
        if char == "(":
            depth += 1
            if depth == 1:
                start = index + 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                bodies.append(ctes[start:index])
    return bodies


async def record_post_events(session: AsyncSession, *, post_ids: list[str]) -> None:
    """Outbox rows for posts whose status this transaction just changed (ORM-shaped writes)."""
    if not post_ids:
        return
    statement = text(
        f"WITH changed AS (SELECT {POST_EVENT_RETURNING} FROM scheduled_posts "
        f"WHERE id = ANY(:ids)), {POST_EVENT_CTES} SELECT count(*) FROM changed"
    )
    await session.execute(statement.bindparams(bindparam("ids", type_=ARRAY(Text))), {"ids": list(post_ids)})


_CONTENT_EVENT = f"""
    WITH source AS (
        SELECT c.organization_id, c.project_id, CAST(:type AS text) AS type, NULL::text AS post_id, NULL::int AS sequence,
               CASE WHEN CAST(:type AS text) = 'content.approved' THEN jsonb_build_object(
                        'id', c.id, 'projectId', c.project_id, 'approvedAt', {wire_time("c.approved_at")},
                        'approvedBy', c.approved_by)
                    ELSE jsonb_build_object(
                        'id', c.id, 'projectId', c.project_id, 'rejectedAt', {wire_time("c.rejected_at")},
                        'rejectedBy', c.rejected_by, 'reason', c.rejection_reason) END AS data
        FROM content_containers c WHERE c.id = :container_id
    ),
    {_EVENTS_AND_DELIVERIES.format(source="source")}
    SELECT count(*) FROM source"""


async def record_content_event(session: AsyncSession, *, container_id: str, event_type: str) -> None:
    """Outbox row for an approval flip, after the container row was flushed in this transaction."""
    await session.execute(text(_CONTENT_EVENT), {"container_id": container_id, "type": event_type})


# For the account disconnect: append after `WITH changed AS (UPDATE social_accounts ... RETURNING
# id, organization_id, project_id, platform, handle, disconnected_reason)`.
ACCOUNT_EVENT_CTES = f"""
    account_events AS (
        SELECT c.organization_id, c.project_id, 'social_account.needs_reauth'::text AS type,
               NULL::text AS post_id, NULL::int AS sequence,
               jsonb_build_object('socialAccountId', c.id, 'platform', c.platform, 'handle', c.handle,
                                  'reason', c.disconnected_reason) AS data
        FROM changed c
    ),{_EVENTS_AND_DELIVERIES.format(source="account_events")}"""

# A single event for one endpoint (test.ping, replays): :endpoint_id, :organization_id, :project_id,
# :type, :post_id, :sequence, and :data (jsonb); the body gets `replayOf` when :replay_of is set.
SINGLE_EVENT = f"""
    WITH made AS (
        SELECT webhook_event_id() AS id, CAST(:organization_id AS text) AS organization_id,
               CAST(:project_id AS text) AS project_id, CAST(:type AS text) AS type,
               CAST(:post_id AS text) AS post_id, CAST(:sequence AS int) AS sequence
    ),
    events AS (
        INSERT INTO webhook_events (id, organization_id, project_id, type, post_id, sequence, body)
        SELECT m.id, m.organization_id, m.project_id, m.type, m.post_id, m.sequence,
               (jsonb_build_object('id', m.id, 'type', m.type, 'createdAt', {wire_time("now()")},
                                   'organizationId', m.organization_id, 'projectId', m.project_id,
                                   'data', CAST(:data AS jsonb))
                || CASE WHEN CAST(:replay_of AS text) IS NULL THEN '{{}}'::jsonb
                        ELSE jsonb_build_object('replayOf', CAST(:replay_of AS text)) END)::text
        FROM made m
        RETURNING id, organization_id, type, post_id, sequence
    )
    INSERT INTO webhook_deliveries (id, organization_id, endpoint_id, event_id, event_type, post_id, sequence)
    SELECT 'whd_' || gen_random_uuid(), ev.organization_id, :endpoint_id, ev.id, ev.type, ev.post_id, ev.sequence
    FROM events ev
    RETURNING id, event_id"""
