"""All delivery SQL: claiming due posts, leases, fenced step writes, journal merges, account tokens.

Every function runs inside the caller's transaction; `transaction()` opens the short ones the worker
uses. Times come from PostgreSQL's `now()`, so workers on hosts with skewed clocks agree on what is due.
Writes that end or advance a step are fenced on (id, fence, status='publishing'), the fence being the
`attempt` column that every claim bumps: they return False when the claim was lost (the lease expired
and another worker took the post), and the caller drops them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Select, Text, any_, bindparam, inspect, select, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from crier.core.vocabulary import PostStatus, PublishingPhase, publishing_phase

# The worker reaches PostgreSQL through these two; delivery modules call them as repository.*.
from crier.core.worker_db import run_statements as run_statements
from crier.core.worker_db import transaction as transaction
from crier.models import ContentContainer, Layer, Organization, ScheduledPost, SocialAccount, TiktokMusicTrack
from crier.webhooks.outbox import POST_EVENT_COLUMNS, POST_EVENT_CTES, POST_EVENT_RETURNING

T = TypeVar("T")

# Python None binds as SQL NULL (not JSON null), so coalesce() can keep the stored value.
_JSON = JSONB(none_as_null=True)

# Every statement that updates several rows locks them first in id order (_LOCKED), so two of them
# (a renewal and a journal batch of the same worker) can never deadlock on each other.
_LOCKED = """
    locked AS (
        SELECT sp.id FROM scheduled_posts AS sp JOIN w ON sp.id = w.id ORDER BY sp.id FOR UPDATE OF sp
    )
"""


@dataclass(frozen=True)
class ClaimedPost:
    id: str
    fence: int  # the fencing token this claim owns (the row's `attempt` column)
    platform: str
    mode: str
    request_id: str | None
    attempted_at: datetime | None  # None while a post claimed ahead waits for its instant
    retry_count: int
    previous_status: str
    previous_lease_expires_at: datetime | None
    claimed_at: datetime  # PostgreSQL's clock at the claim
    starts_at: datetime | None = None  # when to start (its due time: claims reach a little ahead)
    processing_started_at: datetime | None = None  # the platform's first `processing`, if any yet

    @property
    def claimed_ahead(self) -> bool:
        """Claimed before its instant: still `scheduled`, start_post() makes it `publishing`."""
        return self.attempted_at is None

    @property
    def previous_phase(self) -> PublishingPhase | None:
        """Where the post stood when this claim took it (None: it was not `publishing` yet)."""
        if self.previous_status != PostStatus.PUBLISHING:
            return None
        return publishing_phase(
            lease_expires_at=self.previous_lease_expires_at,
            processing_started_at=self.processing_started_at,
        )

    @property
    def rescued(self) -> bool:
        """A worker held this post and its lease ran out (it died or hung mid-step)."""
        return self.previous_phase is PublishingPhase.CLAIMED


# One statement, so two claimers can never take the same row: SKIP LOCKED passes over rows another
# claimer is taking, and the re-check of the WHERE clause drops rows whose due_at just moved to the
# lease end. A claimed row's due_at IS its lease end: if this worker dies, the row becomes due again.
# Claims reach `ahead` seconds into the future, so a burst due at 09:00:00 is claimed (and its rows
# loaded) before 09:00 and each post starts at its instant; a held lease is never taken early. A post
# claimed ahead stays `scheduled` (still cancelable, attemptedAt unset) until start_post() at its
# instant. caption_sent is written here, in the same row update.
_CLAIM = text(f"""
    WITH due AS (
        SELECT id, status, lease_expires_at, due_at
        FROM scheduled_posts
        WHERE status IN ('{PostStatus.SCHEDULED}', '{PostStatus.PUBLISHING}')
          AND due_at <= now() + CAST(:ahead AS float8) * interval '1 second'
          AND (lease_expires_at IS NULL OR due_at <= now())
        ORDER BY due_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE scheduled_posts AS sp
    SET status = CASE WHEN due.due_at <= now() THEN '{PostStatus.PUBLISHING}' ELSE sp.status END,
        attempt = sp.attempt + 1,
        lease_expires_at = greatest(now(), due.due_at) + CAST(:lease AS float8) * interval '1 second',
        due_at = greatest(now(), due.due_at) + CAST(:lease AS float8) * interval '1 second',
        attempted_at = CASE WHEN due.due_at <= now() THEN coalesce(sp.attempted_at, now())
                            ELSE sp.attempted_at END,
        caption_sent = coalesce(sp.caption_override, c.caption, ''),
        updated_at = now()
    FROM due, content_containers AS c
    WHERE sp.id = due.id AND c.id = sp.container_id
    RETURNING sp.id, sp.attempt AS fence, sp.platform, sp.mode, sp.request_id, sp.attempted_at, sp.retry_count,
              due.status AS previous_status, due.lease_expires_at AS previous_lease_expires_at,
              now() AS claimed_at, greatest(now(), due.due_at) AS starts_at, sp.processing_started_at
""")


async def claim_due_posts(
    session: AsyncSession | AsyncConnection, *, limit: int, lease_seconds: float, ahead_seconds: float = 0.0
) -> list[ClaimedPost]:
    """Take up to `limit` posts due within `ahead_seconds`, each under a fresh lease and fence."""
    if limit <= 0:
        return []
    rows = await session.execute(
        _CLAIM, {"limit": limit, "lease": float(lease_seconds), "ahead": float(ahead_seconds)}
    )
    return [ClaimedPost(**row._mapping) for row in rows]


_START = text(f"""
    WITH w AS (SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:fences AS int[])) AS w(id, fence)),
    {_LOCKED}
    UPDATE scheduled_posts AS sp
    SET status = '{PostStatus.PUBLISHING}', attempted_at = coalesce(sp.attempted_at, now()), updated_at = now()
    FROM w JOIN locked ON locked.id = w.id
    WHERE sp.id = w.id AND sp.attempt = w.fence AND sp.status IN ('{PostStatus.SCHEDULED}', '{PostStatus.PUBLISHING}')
    RETURNING sp.id, sp.attempted_at
""")


async def start_posts(
    session: AsyncSession | AsyncConnection, rows: list[dict[str, Any]]
) -> dict[str, datetime]:
    """At their instant, posts claimed ahead become `publishing` ({post_id, fence} each); returns
    {id: attemptedAt} of those still held (not canceled or taken over meanwhile)."""
    result = await session.execute(
        _START, {"ids": [row["post_id"] for row in rows], "fences": [row["fence"] for row in rows]}
    )
    return {row.id: row.attempted_at for row in result}


async def start_post(session: AsyncSession | AsyncConnection, *, post_id: str, fence: int) -> datetime | None:
    """start_posts() for one post: its attemptedAt, None when the claim was lost or the post canceled."""
    return (await start_posts(session, [{"post_id": post_id, "fence": fence}])).get(post_id)


async def hand_back(
    session: AsyncSession | AsyncConnection, *, post_id: str, fence: int, due_at: datetime
) -> bool:
    """Release a claim that never started (the worker is stopping): due again at `due_at`, for anyone."""
    result = await session.execute(
        text(
            "UPDATE scheduled_posts SET due_at = :due_at, lease_expires_at = NULL, updated_at = now() "
            f"WHERE id = :id AND attempt = :fence AND status IN ('{PostStatus.SCHEDULED}', '{PostStatus.PUBLISHING}')"
        ),
        {"id": post_id, "fence": fence, "due_at": due_at},
    )
    return cast(CursorResult[Any], result).rowcount == 1


async def _fenced(
    session: AsyncSession | AsyncConnection,
    *,
    post_id: str,
    fence: int,
    assignments: str,
    params: dict[str, Any] | None = None,
    json_params: tuple[str, ...] = (),
) -> bool:
    statement = text(
        f"UPDATE scheduled_posts SET {assignments}, updated_at = now() "
        f"WHERE id = :id AND attempt = :fence AND status = '{PostStatus.PUBLISHING}'"
    )
    if json_params:
        statement = statement.bindparams(*(bindparam(name, type_=_JSON) for name in json_params))
    result = await session.execute(statement, {"id": post_id, "fence": fence, **(params or {})})
    return cast(CursorResult[Any], result).rowcount == 1


# --- webhooks outbox (issue 11) ---------------------------------------------------------------------
# A fenced write that changes the post's status also writes its webhook event rows, in the same
# statement (crier.webhooks.outbox): the event exists exactly when the change committed.
async def _fenced_with_events(
    session: AsyncSession,
    *,
    post_id: str,
    fence: int,
    assignments: str,
    params: dict[str, Any] | None = None,
    json_params: tuple[str, ...] = (),
) -> bool:
    statement = text(
        f"WITH changed AS (UPDATE scheduled_posts SET {assignments}, updated_at = now() "
        f"WHERE id = :id AND attempt = :fence AND status = '{PostStatus.PUBLISHING}' "
        f"RETURNING {POST_EVENT_RETURNING}), {POST_EVENT_CTES} SELECT count(*) AS written FROM changed"
    )
    if json_params:
        statement = statement.bindparams(*(bindparam(name, type_=_JSON) for name in json_params))
    result = await session.execute(statement, {"id": post_id, "fence": fence, **(params or {})})
    written: int = result.scalar_one()
    return written == 1


# --- end webhooks outbox ---------------------------------------------------------------------------


async def renew_lease(session: AsyncSession, *, post_id: str, fence: int, lease_seconds: float) -> bool:
    """Extend the lease of a post this worker is still working on."""
    return post_id in await renew_leases(session, held={post_id: fence}, lease_seconds=lease_seconds)


# Fenced like every write, and only while the lease is held: a renewal racing the step's release
# (lease_expires_at NULL) re-checks the row after the release and leaves it alone.
_RENEW = text(f"""
    WITH w AS (SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:fences AS int[])) AS w(id, fence)),
    {_LOCKED}
    UPDATE scheduled_posts AS sp
    SET lease_expires_at = greatest(sp.lease_expires_at, now() + CAST(:lease AS float8) * interval '1 second'),
        due_at = greatest(sp.lease_expires_at, now() + CAST(:lease AS float8) * interval '1 second')
    FROM w JOIN locked ON locked.id = w.id
    WHERE sp.id = w.id AND sp.attempt = w.fence AND sp.status IN ('{PostStatus.SCHEDULED}', '{PostStatus.PUBLISHING}')
      AND sp.lease_expires_at IS NOT NULL
    RETURNING sp.id
""")


async def renew_leases(
    session: AsyncSession | AsyncConnection, *, held: dict[str, int], lease_seconds: float
) -> set[str]:
    """Extend the leases of every post this worker holds ({id: fence}), in one statement; returns
    the ids still held (the others were lost or have ended)."""
    if not held:
        return set()
    rows = await session.execute(
        _RENEW, {"ids": list(held), "fences": list(held.values()), "lease": float(lease_seconds)}
    )
    return {row.id for row in rows}


_MERGE_JOURNALS = text(f"""
    WITH w AS (SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:fences AS int[]), CAST(:handles AS text[]))
                             AS w(id, fence, handles)),
    {_LOCKED}
    UPDATE scheduled_posts AS sp
    SET journal = sp.journal || CAST(w.handles AS jsonb), updated_at = now()
    FROM w JOIN locked ON locked.id = w.id
    WHERE sp.id = w.id AND sp.attempt = w.fence AND sp.status = '{PostStatus.PUBLISHING}'
    RETURNING sp.id
""")


async def merge_journals(
    session: AsyncSession | AsyncConnection, rows: list[dict[str, Any]]
) -> dict[str, bool]:
    """Merge handles into posts' journals ({post_id, fence, handles} each), fenced row by row;
    returns {id: True} for the rows still held."""
    result = await session.execute(
        _MERGE_JOURNALS,
        {
            "ids": [row["post_id"] for row in rows],
            "fences": [row["fence"] for row in rows],
            "handles": [json.dumps(row["handles"]) for row in rows],
        },
    )
    return {row.id: True for row in result}


async def merge_journal(
    session: AsyncSession | AsyncConnection, *, post_id: str, fence: int, handles: dict[str, Any]
) -> bool:
    """Merge platform handles into the post's journal."""
    rows = [{"post_id": post_id, "fence": fence, "handles": handles}]
    return post_id in await merge_journals(session, rows)


# The webhook events (post.published / post.draft) are written by the same statement (issue 11).
_MARK_DELIVERED = text(f"""
    WITH w AS (SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:fences AS int[]), CAST(:statuses AS text[]),
                                    CAST(:external_ids AS text[]), CAST(:external_urls AS text[]))
                             AS w(id, fence, status, external_id, external_url)),
    {_LOCKED},
    changed AS (
        UPDATE scheduled_posts AS sp
        SET status = w.status,
            published_at = CASE WHEN w.status = '{PostStatus.PUBLISHED}' THEN now() ELSE sp.published_at END,
            external_id = w.external_id, external_url = w.external_url, last_error = NULL,
            due_at = NULL, lease_expires_at = NULL, updated_at = now(), event_sequence = sp.event_sequence + 1
        FROM w JOIN locked ON locked.id = w.id
        WHERE sp.id = w.id AND sp.attempt = w.fence AND sp.status = '{PostStatus.PUBLISHING}'
        RETURNING {", ".join(f"sp.{name}" for name in POST_EVENT_COLUMNS)}
    ), {POST_EVENT_CTES}
    SELECT id FROM changed
""")


async def mark_delivered_many(
    session: AsyncSession | AsyncConnection, rows: list[dict[str, Any]]
) -> dict[str, bool]:
    """End posts `published` or `draft` ({post_id, fence, status, external_id, external_url} each),
    fenced row by row; returns {id: True} for the rows still held."""
    result = await session.execute(
        _MARK_DELIVERED,
        {
            "ids": [row["post_id"] for row in rows],
            "fences": [row["fence"] for row in rows],
            "statuses": [row["status"] for row in rows],
            "external_ids": [row["external_id"] for row in rows],
            "external_urls": [row["external_url"] for row in rows],
        },
    )
    return {row.id: True for row in result}


async def mark_delivered(
    session: AsyncSession | AsyncConnection,
    *,
    post_id: str,
    fence: int,
    status: str,
    external_id: str | None,
    external_url: str | None,
) -> bool:
    """End the post `published` or `draft` with what the platform returned."""
    rows = [
        {
            "post_id": post_id,
            "fence": fence,
            "status": status,
            "external_id": external_id,
            "external_url": external_url,
        }
    ]
    return post_id in await mark_delivered_many(session, rows)


async def mark_failed(
    session: AsyncSession, *, post_id: str, fence: int, error: dict[str, str], add_retries: int = 0
) -> bool:
    """End the post `failed` with `error` as its lastError."""
    return await _fenced_with_events(
        session,
        post_id=post_id,
        fence=fence,
        assignments=f"status = '{PostStatus.FAILED}', last_error = :error, retry_count = retry_count + :add_retries, "
        "due_at = NULL, lease_expires_at = NULL, event_sequence = event_sequence + 1",
        params={"error": error, "add_retries": add_retries},
        json_params=("error",),
    )


async def schedule_next_step(
    session: AsyncSession,
    *,
    post_id: str,
    fence: int,
    due_in: float,
    hold_lease: bool,
    add_retries: int = 0,
    error: dict[str, str] | None = None,
    processing_for: float | None = None,
) -> bool:
    """Keep the post `publishing` and set when its next step is due.

    `hold_lease` keeps this worker's lease (it will do the step itself shortly); otherwise the lease
    is released and whichever worker sweeps after `due_in` seconds does the step. `processing_for`
    (seconds) records when the platform began processing, unless it is recorded already.
    """
    lease = "due_at" if hold_lease else "NULL"
    return await _fenced(
        session,
        post_id=post_id,
        fence=fence,
        assignments="due_at = now() + CAST(:due_in AS float8) * interval '1 second', "
        f"lease_expires_at = {lease}, retry_count = retry_count + :add_retries, "
        "last_error = coalesce(:error, last_error), "
        "processing_started_at = coalesce(processing_started_at, "
        "now() - CAST(:processing_for AS float8) * interval '1 second')",
        params={
            "due_in": float(due_in),
            "add_retries": add_retries,
            "error": error,
            "processing_for": processing_for,
        },
        json_params=("error",),
    )


@dataclass(frozen=True)
class DeliveryRows:
    """What a DeliveryJob is built from: plain column values per table (no ORM objects), by attribute."""

    post: Any
    container: Any
    account: Any
    organization: Any
    layer: Any | None
    music_link: str | None


_LOADED = {
    "post": (
        ScheduledPost,
        (
            "id",
            "platform",
            "mode",
            "status",
            "fence",
            "caption_override",
            "first_comment_override",
            "tiktok_post_settings",
            "tiktok_music",
            "share_reel_to_feed",
            "journal",
            "caption_sent",
            "processing_started_at",
            "scheduled_for",
        ),
    ),
    "container": (ContentContainer, ("id", "media_type", "media", "caption", "first_comment")),
    "account": (
        SocialAccount,
        (
            "id",
            "platform",
            "handle",
            "external_account_id",
            "access_token_encrypted",
            "refresh_token_encrypted",
            "token_expires_at",
            "granted_scopes",
            "instagram_account_type",
            "status",
            "disconnected_reason",
            "layer_id",
        ),
    ),
    "organization": (Organization, ("id", "primary_operator_phone", "primary_operator_phone_verified")),
    "layer": (Layer, ("id", "config", "signing_secret_encrypted")),
}


def _load_statement() -> Select[*tuple[Any, ...]]:
    post, container, account, organization, layer = (model.__table__ for model, _ in _LOADED.values())
    track = TiktokMusicTrack.__table__
    columns = [
        inspect(model).columns[name].label(f"{part}__{name}")  # by attribute name
        for part, (model, names) in _LOADED.items()
        for name in names
    ]
    return (
        select(*columns, track.c.link.label("music_link"))
        .select_from(
            post.join(container, container.c.id == post.c.container_id)
            .join(account, account.c.id == post.c.social_account_id)
            .join(organization, organization.c.id == post.c.organization_id)
            .outerjoin(layer, layer.c.id == account.c.layer_id)
            .outerjoin(track, track.c.id == post.c.tiktok_music["trackId"].astext)
        )
        .where(post.c.id == any_(bindparam("ids", type_=ARRAY(Text))))
    )


_LOAD = _load_statement()


async def load_delivery_rows_many(
    session: AsyncSession | AsyncConnection, post_ids: list[str]
) -> dict[str, DeliveryRows]:
    """The rows every DeliveryJob of a claimed batch is built from, in one query."""
    if not post_ids:
        return {}
    found: dict[str, DeliveryRows] = {}
    for row in await session.execute(_LOAD, {"ids": list(post_ids)}):
        values = row._mapping
        parts = {
            part: SimpleNamespace(**{name: values[f"{part}__{name}"] for name in names})
            for part, (_, names) in _LOADED.items()
        }
        layer = parts["layer"] if parts["layer"].id is not None else None
        found[parts["post"].id] = DeliveryRows(
            parts["post"],
            parts["container"],
            parts["account"],
            parts["organization"],
            layer,
            values["music_link"],
        )
    return found


async def load_delivery_rows(session: AsyncSession | AsyncConnection, *, post_id: str) -> DeliveryRows | None:
    """The post with everything a DeliveryJob is built from."""
    return (await load_delivery_rows_many(session, [post_id])).get(post_id)


async def save_account_tokens(
    session: AsyncSession,
    *,
    account_id: str,
    access_token_encrypted: str,
    refresh_token_encrypted: str | None,
    token_expires_at: datetime | None,
    refresh_token_expires_at: datetime | None,
) -> None:
    """Store rotated tokens; a missing refresh token keeps the stored one (and its expiry)."""
    await session.execute(
        text("""
            UPDATE social_accounts
            SET access_token_encrypted = :access,
                token_expires_at = :expires_at,
                refresh_token_encrypted = coalesce(:refresh, refresh_token_encrypted),
                refresh_token_expires_at = CASE WHEN :refresh IS NULL THEN refresh_token_expires_at
                                                ELSE :refresh_expires_at END,
                last_refresh_at = now(), last_refresh_error = NULL,
                updated_at = now()
            WHERE id = :id
        """),
        {
            "id": account_id,
            "access": access_token_encrypted,
            "refresh": refresh_token_encrypted,
            "expires_at": token_expires_at,
            "refresh_expires_at": refresh_token_expires_at,
        },
    )


# --- worker liveness ------------------------------------------------------------------------------
async def record_heartbeat(
    session: AsyncSession | AsyncConnection, *, worker_id: str, hostname: str, pid: int
) -> None:
    """This worker swept PostgreSQL just now."""
    await session.execute(
        text("""
            INSERT INTO worker_heartbeats (worker_id, hostname, pid, started_at, seen_at)
            VALUES (:worker_id, :hostname, :pid, now(), now())
            ON CONFLICT (worker_id) DO UPDATE SET seen_at = now()
        """),
        {"worker_id": worker_id, "hostname": hostname, "pid": pid},
    )


async def forget_heartbeat(
    session: AsyncSession | AsyncConnection, *, worker_id: str | None, stale_after_seconds: float
) -> None:
    """A stopping worker's row goes, and so do the rows of workers that died long ago (None: only those)."""
    await session.execute(
        text(
            "DELETE FROM worker_heartbeats WHERE worker_id = :worker_id "
            "OR seen_at < now() - CAST(:stale AS float8) * interval '1 second'"
        ),
        {"worker_id": worker_id, "stale": float(stale_after_seconds)},
    )


async def seconds_since_heartbeat(session: AsyncSession | AsyncConnection, *, hostname: str) -> float | None:
    """How long ago a worker on `hostname` last swept (None: none is recorded)."""
    seconds: float | None = await session.scalar(
        text(
            "SELECT EXTRACT(EPOCH FROM now() - max(seen_at))::float8 FROM worker_heartbeats "
            "WHERE hostname = :hostname"
        ),
        {"hostname": hostname},
    )
    return seconds
