"""SQL of social accounts and OAuth states: the state's single use, the connect upsert lookup,
the project listing's keyset page, and the posts a revocation cancels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import delete, func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.db import unit_of_work
from crier.core.vocabulary import CANCELABLE_STATUSES
from crier.models import ApiKey, Layer, OAuthState, ScheduledPost, SocialAccount
from crier.webhooks.outbox import ACCOUNT_EVENT_CTES

# Posts a revocation cancels: not yet claimed by a worker (`blocked_on_approval` is a stashed target).


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
    return result.scalar_one() == 1


async def layers_by_id(session: AsyncSession, layer_ids: set[str]) -> dict[str | None, Layer]:
    """The accounts' layers (readiness of the managed mode depends on them)."""
    if not layer_ids:
        return {}
    return {layer.id: layer for layer in await session.scalars(select(Layer).where(Layer.id.in_(layer_ids)))}
