"""SQL of social accounts and OAuth states: the lookups by id, the state's single use, the connect
upsert lookup, the listings (the project's keyset page among them), the posts a revocation cancels,
and the TikTok music catalog."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg
from sqlalchemy import delete, func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.db import DriverRow, driver_call, unit_of_work
from crier.core.ids import is_valid_id
from crier.core.vocabulary import CANCELABLE_STATUSES
from crier.models import ApiKey, Layer, OAuthState, ScheduledPost, SocialAccount, TiktokMusicTrack
from crier.webhooks.outbox import ACCOUNT_EVENT_CTES

# Posts a revocation cancels: not yet claimed by a worker (`blocked_on_approval` is a stashed target).


class LayerView(NamedTuple):
    """What readiness reads of an account's layer."""

    template_id: str
    config: dict[str, Any] | None


# Every column of the account (readiness may read any of them) and what readiness needs of its
# layer: a fixed SQL text on the asyncpg connection, as the publish path that reads it on every
# request sends its statements (publishing/repository).
_ACCOUNTS_BY_ID = """
SELECT a.*, l.template_id AS layer_template_id, l.config AS layer_config
FROM social_accounts AS a LEFT JOIN layers AS l ON l.id = a.layer_id
WHERE a.id = ANY($1::text[]) AND a.organization_id = $2
"""


@asynccontextmanager
async def transaction() -> AsyncIterator[AsyncSession]:
    """One short unit of work for the OAuth callback, which must not hold one open while a platform answers."""
    async with unit_of_work() as session:
        yield session


async def allowed_return_hosts(session: AsyncSession, *, key_id: str) -> list[str]:
    return list(await session.scalar(select(ApiKey.allowed_return_hosts).where(ApiKey.id == key_id)) or [])


async def delete_long_expired_states(session: AsyncSession) -> None:
    """Keep the table small: a state a day past its expiry is of no use even to oauth-status."""
    await session.execute(
        delete(OAuthState).where(OAuthState.expires_at < func.now() - text("interval '1 day'"))
    )


async def find_state(
    session: AsyncSession, *, state_hash: str, organization_id: str | None = None, for_update: bool = False
) -> OAuthState | None:
    statement = select(OAuthState).where(OAuthState.state_hash == state_hash)
    if organization_id is not None:
        statement = statement.where(OAuthState.organization_id == organization_id)
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement.execution_options(populate_existing=True))


async def consume_state(session: AsyncSession, *, state_hash: str) -> OAuthState | None:
    """Mark a pending, unexpired state used; None when it was used, expired or failed already, or
    when the API key it is bound to was revoked since.

    One UPDATE decides: two callbacks racing on the same state cannot both see it unused.
    """
    live_keys = select(ApiKey.id).where(ApiKey.revoked_at.is_(None))
    statement = (
        update(OAuthState)
        .where(
            OAuthState.state_hash == state_hash,
            OAuthState.used_at.is_(None),
            OAuthState.status == "pending",
            OAuthState.expires_at > func.now(),
            OAuthState.api_key_id.in_(live_keys),
        )
        .values(used_at=func.now())
        .returning(OAuthState)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(statement)


async def lock_platform_account(
    session: AsyncSession, *, project_id: str, platform: str, external_account_id: str
) -> None:
    """Serialize connects of one platform account in one project until the transaction ends.

    No unique index backs this (operators may have pasted the same account twice before OAuth
    existed); the lock makes two racing callbacks for the same account update one row.
    """
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"social-account:{project_id}:{platform}:{external_account_id}"},
    )


async def find_platform_account(
    session: AsyncSession, *, project_id: str, platform: str, external_account_id: str
) -> SocialAccount | None:
    """The oldest row of this platform account in the project (locked), if any."""
    return await session.scalar(
        select(SocialAccount)
        .where(
            SocialAccount.project_id == project_id,
            SocialAccount.platform == platform,
            SocialAccount.external_account_id == external_account_id,
        )
        .order_by(SocialAccount.created_at, SocialAccount.id)
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def find_account(
    session: AsyncSession,
    *,
    account_id: str,
    organization_id: str | None = None,
    project_id: str | None = None,
    for_update: bool = False,
) -> SocialAccount | None:
    statement = select(SocialAccount).where(SocialAccount.id == account_id)
    if organization_id is not None:
        statement = statement.where(SocialAccount.organization_id == organization_id)
    if project_id is not None:
        statement = statement.where(SocialAccount.project_id == project_id)
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement.execution_options(populate_existing=True))


async def accounts_by_id(
    connection: asyncpg.Connection, *, organization_id: str, account_ids: list[str]
) -> dict[str, tuple[DriverRow, LayerView | None]]:
    """The organization's accounts among `account_ids`, each with its layer, in one query."""
    wanted = sorted({account_id for account_id in account_ids if is_valid_id(account_id, "sa")})
    if not wanted:
        return {}
    rows = await driver_call(connection.fetch(_ACCOUNTS_BY_ID, wanted, organization_id))
    return {
        row["id"]: (
            DriverRow.of(row),
            None
            if row["layer_template_id"] is None
            else LayerView(row["layer_template_id"], row["layer_config"]),
        )
        for row in rows
    }


async def list_with_layers(
    session: AsyncSession, *, organization_id: str, project_id: str | None = None
) -> list[tuple[SocialAccount, Layer | None]]:
    """The organization's accounts (of one project, if given) in connection order, each with its layer."""
    statement = (
        select(SocialAccount, Layer)
        .outerjoin(Layer, Layer.id == SocialAccount.layer_id)
        .where(SocialAccount.organization_id == organization_id)
        .order_by(SocialAccount.created_at, SocialAccount.id)
    )
    if project_id is not None:
        statement = statement.where(SocialAccount.project_id == project_id)
    return [(account, layer) for account, layer in (await session.execute(statement)).all()]


async def page_of_project(
    session: AsyncSession, *, project_id: str, after: tuple[datetime, str] | None, limit: int
) -> list[SocialAccount]:
    """Up to `limit` accounts after `after`, in (created_at, id) order."""
    statement = select(SocialAccount).where(SocialAccount.project_id == project_id)
    if after is not None:
        statement = statement.where(tuple_(SocialAccount.created_at, SocialAccount.id) > tuple_(*after))
    statement = statement.order_by(SocialAccount.created_at, SocialAccount.id).limit(limit)
    return list(await session.scalars(statement))


async def lock_cancelable_posts(session: AsyncSession, *, account_id: str) -> list[ScheduledPost]:
    """The account's posts no worker has claimed yet, locked.

    The worker claims with FOR UPDATE SKIP LOCKED and re-checks the status, so a post is either
    canceled here or already `publishing` (and then it finishes).
    """
    return list(
        await session.scalars(
            select(ScheduledPost)
            .where(
                ScheduledPost.social_account_id == account_id,
                ScheduledPost.status.in_(CANCELABLE_STATUSES),
            )
            .order_by(ScheduledPost.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


async def mark_reauth_required(session: AsyncSession, *, account_id: str, reason: str) -> bool:
    """connected → reauth_required; False when it was not connected (the first reason stands).

    The webhook event `social_account.needs_reauth` is written by the same statement (issue 11).
    """
    result = await session.execute(
        text(f"""
        WITH changed AS (
            UPDATE social_accounts
            SET status = 'reauth_required', disconnected_reason = :reason, disconnected_at = now(),
                last_refresh_error = :reason, updated_at = now()
            WHERE id = :id AND status = 'connected'
            RETURNING id, organization_id, project_id, platform, handle, disconnected_reason
        ), {ACCOUNT_EVENT_CTES}
        SELECT count(*) FROM changed
    """),
        {"id": account_id, "reason": reason},
    )
    changed: int = result.scalar_one()
    return changed == 1


async def layers_by_id(session: AsyncSession, layer_ids: set[str]) -> dict[str | None, Layer]:
    """The accounts' layers (readiness of the managed mode depends on them)."""
    if not layer_ids:
        return {}
    return {layer.id: layer for layer in await session.scalars(select(Layer).where(Layer.id.in_(layer_ids)))}


async def music_catalog(session: AsyncSession) -> list[TiktokMusicTrack]:
    """The TikTok tracks partners may attach, by artist and title."""
    return list(
        await session.scalars(
            select(TiktokMusicTrack).order_by(TiktokMusicTrack.artist, TiktokMusicTrack.title)
        )
    )
