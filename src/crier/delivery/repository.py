"""All delivery SQL: claiming due posts, leases, fenced step writes, journal merges, account tokens.

Every function runs inside the caller's transaction; `transaction()` opens the short ones the worker
uses. Times come from PostgreSQL's `now()`, so workers on hosts with skewed clocks agree on what is due.
Writes that end or advance a step are fenced on (id, attempt, status='publishing'): they return False
when the claim was lost (the lease expired and another worker took the post), and the caller drops them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.db import get_sessionmaker
from crier.models import ContentContainer, Layer, Organization, ScheduledPost, SocialAccount, TiktokMusicTrack
from crier.webhooks.outbox import ACCOUNT_EVENT_CTES, POST_EVENT_CTES, POST_EVENT_RETURNING

# Python None binds as SQL NULL (not JSON null), so coalesce() can keep the stored value.
_JSON = JSONB(none_as_null=True)


@asynccontextmanager
async def transaction() -> AsyncIterator[AsyncSession]:
    """One short unit of work that commits on exit; never held open across a platform call."""
    async with get_sessionmaker()() as session, session.begin():
        yield session


@dataclass(frozen=True)
class ClaimedPost:
    id: str
    attempt: int  # the fencing token this claim owns
    platform: str
    mode: str
    request_id: str | None
    attempted_at: datetime
    retry_count: int
    previous_status: str
    previous_lease_expires_at: datetime | None
    claimed_at: datetime  # PostgreSQL's clock at the claim

    @property
    def rescued(self) -> bool:
        """A worker held this post and its lease ran out (it died or hung mid-step)."""
        return self.previous_status == "publishing" and self.previous_lease_expires_at is not None


# One statement, so two claimers can never take the same row: SKIP LOCKED passes over rows another
# claimer is taking, and the re-check of the WHERE clause drops rows whose due_at just moved to the
# lease end. A claimed row's due_at IS its lease end: if this worker dies, the row becomes due again.
_CLAIM = text("""
    WITH due AS (
        SELECT id, status, lease_expires_at
        FROM scheduled_posts
        WHERE status IN ('scheduled', 'publishing') AND due_at <= now()
        ORDER BY due_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE scheduled_posts AS sp
    SET status = 'publishing',
        attempt = sp.attempt + 1,
        lease_expires_at = now() + CAST(:lease AS float8) * interval '1 second',
        due_at = now() + CAST(:lease AS float8) * interval '1 second',
        attempted_at = coalesce(sp.attempted_at, now()),
        updated_at = now()
    FROM due
    WHERE sp.id = due.id
    RETURNING sp.id, sp.attempt, sp.platform, sp.mode, sp.request_id, sp.attempted_at, sp.retry_count,
              due.status AS previous_status, due.lease_expires_at AS previous_lease_expires_at,
              now() AS claimed_at
""")


async def claim_due_posts(session: AsyncSession, *, limit: int, lease_seconds: float) -> list[ClaimedPost]:
    """Take up to `limit` due posts for this worker, each under a fresh lease and attempt number."""
    if limit <= 0:
        return []
    rows = await session.execute(_CLAIM, {"limit": limit, "lease": float(lease_seconds)})
    return [ClaimedPost(**row._mapping) for row in rows]


async def _fenced(session: AsyncSession, *, post_id: str, attempt: int, assignments: str,
                  params: dict[str, Any] | None = None, json_params: tuple[str, ...] = ()) -> bool:
    statement = text(
        f"UPDATE scheduled_posts SET {assignments}, updated_at = now() "
        "WHERE id = :id AND attempt = :attempt AND status = 'publishing'"
    )
    if json_params:
        statement = statement.bindparams(*(bindparam(name, type_=_JSON) for name in json_params))
    result = await session.execute(statement, {"id": post_id, "attempt": attempt, **(params or {})})
    return result.rowcount == 1


# --- webhooks outbox (issue 11) ---------------------------------------------------------------------
# A fenced write that changes the post's status also writes its webhook event rows, in the same
# statement (crier.webhooks.outbox): the event exists exactly when the change committed.
async def _fenced_with_events(session: AsyncSession, *, post_id: str, attempt: int, assignments: str,
                              params: dict[str, Any] | None = None, json_params: tuple[str, ...] = ()) -> bool:
    statement = text(
        f"WITH changed AS (UPDATE scheduled_posts SET {assignments}, updated_at = now() "
        "WHERE id = :id AND attempt = :attempt AND status = 'publishing' "
        f"RETURNING {POST_EVENT_RETURNING}), {POST_EVENT_CTES} SELECT count(*) AS written FROM changed"
    )
    if json_params:
        statement = statement.bindparams(*(bindparam(name, type_=_JSON) for name in json_params))
    result = await session.execute(statement, {"id": post_id, "attempt": attempt, **(params or {})})
    return result.scalar_one() == 1
# --- end webhooks outbox ---------------------------------------------------------------------------


async def renew_lease(session: AsyncSession, *, post_id: str, attempt: int, lease_seconds: float) -> bool:
    """Extend the lease of a post this worker is still working on."""
    return await _fenced(
        session, post_id=post_id, attempt=attempt,
        assignments="lease_expires_at = now() + CAST(:lease AS float8) * interval '1 second', "
                    "due_at = now() + CAST(:lease AS float8) * interval '1 second'",
        params={"lease": float(lease_seconds)},
    )


async def set_caption_sent(session: AsyncSession, *, post_id: str, attempt: int, caption: str) -> bool:
    """Remember the caption actually sent (history search runs over it)."""
    return await _fenced(session, post_id=post_id, attempt=attempt, assignments="caption_sent = :caption",
                         params={"caption": caption})


async def merge_journal(session: AsyncSession, *, post_id: str, attempt: int,
                        handles: dict[str, Any]) -> bool:
    """Merge platform handles into the post's journal."""
    return await _fenced(session, post_id=post_id, attempt=attempt,
                         assignments="journal = journal || :handles",
                         params={"handles": handles}, json_params=("handles",))


async def mark_delivered(session: AsyncSession, *, post_id: str, attempt: int, status: str,
                         external_id: str | None, external_url: str | None) -> bool:
    """End the post `published` or `draft` with what the platform returned."""
    return await _fenced_with_events(
        session, post_id=post_id, attempt=attempt,
        assignments="status = :status, "
                    "published_at = CASE WHEN :status = 'published' THEN now() ELSE published_at END, "
                    "external_id = :external_id, external_url = :external_url, last_error = NULL, "
                    "due_at = NULL, lease_expires_at = NULL, event_sequence = event_sequence + 1",
        params={"status": status, "external_id": external_id, "external_url": external_url},
    )


async def mark_failed(session: AsyncSession, *, post_id: str, attempt: int, error: dict[str, str],
                      add_retries: int = 0) -> bool:
    """End the post `failed` with `error` as its lastError."""
    return await _fenced_with_events(
        session, post_id=post_id, attempt=attempt,
        assignments="status = 'failed', last_error = :error, retry_count = retry_count + :add_retries, "
                    "due_at = NULL, lease_expires_at = NULL, event_sequence = event_sequence + 1",
        params={"error": error, "add_retries": add_retries}, json_params=("error",),
    )


async def schedule_next_step(session: AsyncSession, *, post_id: str, attempt: int, due_in: float,
                             hold_lease: bool, add_retries: int = 0,
                             error: dict[str, str] | None = None) -> bool:
    """Keep the post `publishing` and set when its next step is due.

    `hold_lease` keeps this worker's lease (it will do the step itself shortly); otherwise the lease
    is released and whichever worker sweeps after `due_in` seconds does the step.
    """
    lease = "due_at" if hold_lease else "NULL"
    return await _fenced(
        session, post_id=post_id, attempt=attempt,
        assignments="due_at = now() + CAST(:due_in AS float8) * interval '1 second', "
                    f"lease_expires_at = {lease}, retry_count = retry_count + :add_retries, "
                    "last_error = coalesce(:error, last_error)",
        params={"due_in": float(due_in), "add_retries": add_retries, "error": error}, json_params=("error",),
    )


@dataclass(frozen=True)
class DeliveryRows:
    post: ScheduledPost
    container: ContentContainer
    account: SocialAccount
    organization: Organization
    layer: Layer | None
    music_link: str | None


async def load_delivery_rows(session: AsyncSession, *, post_id: str) -> DeliveryRows | None:
    """The post with everything a DeliveryJob is built from."""
    found = (await session.execute(
        select(ScheduledPost, ContentContainer, SocialAccount, Organization)
        .join(ContentContainer, ContentContainer.id == ScheduledPost.container_id)
        .join(SocialAccount, SocialAccount.id == ScheduledPost.social_account_id)
        .join(Organization, Organization.id == ScheduledPost.organization_id)
        .where(ScheduledPost.id == post_id)
    )).first()
    if found is None:
        return None
    post, container, account, organization = found
    layer = await session.get(Layer, account.layer_id) if account.layer_id else None
    music_link = None
    track_id = (post.tiktok_music or {}).get("trackId")
    if track_id:
        music_link = await session.scalar(
            select(TiktokMusicTrack.link).where(TiktokMusicTrack.id == track_id))
    return DeliveryRows(post, container, account, organization, layer, music_link)


async def save_account_tokens(session: AsyncSession, *, account_id: str, access_token_encrypted: str,
                              refresh_token_encrypted: str | None, token_expires_at: datetime | None,
                              refresh_token_expires_at: datetime | None) -> None:
    """Store rotated tokens; a missing refresh token keeps the stored one (and its expiry)."""
    await session.execute(
        text("""
            UPDATE social_accounts
            SET access_token_encrypted = :access,
                token_expires_at = :expires_at,
                refresh_token_encrypted = coalesce(:refresh, refresh_token_encrypted),
                refresh_token_expires_at = CASE WHEN :refresh IS NULL THEN refresh_token_expires_at
                                                ELSE :refresh_expires_at END,
                updated_at = now()
            WHERE id = :id
        """),
        {"id": account_id, "access": access_token_encrypted, "refresh": refresh_token_encrypted,
         "expires_at": token_expires_at, "refresh_expires_at": refresh_token_expires_at},
    )


async def disconnect_account(session: AsyncSession, *, account_id: str, reason: str) -> None:
    """Mark the account disconnected; the first reason recorded stands."""
    # The webhook event `social_account.needs_reauth` is written by the same statement (issue 11).
    await session.execute(
        text(f"""
            WITH changed AS (
                UPDATE social_accounts
                SET status = 'disconnected', disconnected_reason = :reason,
                    disconnected_at = now(), updated_at = now()
                WHERE id = :id AND status = 'connected'
                RETURNING id, organization_id, project_id, platform, handle, disconnected_reason
            ), {ACCOUNT_EVENT_CTES}
            SELECT count(*) FROM changed
        """),
        {"id": account_id, "reason": reason},
    )

