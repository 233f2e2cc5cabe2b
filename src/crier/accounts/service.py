"""A project's social accounts as partners manage them (ACCOUNTS.md): list, health, revoke, and
the one place an account's status changes when its token dies."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crier.accounts import repository
from crier.accounts.readiness import readiness
from crier.core import crypto
from crier.core.clock import utcnow
from crier.core.errors import NotFound, validation_error
from crier.core.ids import is_valid_id
from crier.core.settings import Settings
from crier.core.vocabulary import Mode, Platform
from crier.models import Layer, SocialAccount, TiktokMusicTrack
from crier.scheduled_posts import repository as scheduled_posts
from crier.tenancy.ownership import OrganizationId, owned_or_404
from crier.tenancy.projects import get_project

log = logging.getLogger(__name__)

# The platform scopes each mode needs (Instagram drafts are an SMS: no scope needed).
SCOPES_NEEDED: dict[str, dict[str, tuple[str, ...]]] = {
    Platform.TIKTOK: {Mode.PUBLISH: ("video.publish",), Mode.DRAFT: ("video.upload",)},
    Platform.INSTAGRAM: {
        Mode.PUBLISH: ("instagram_business_basic", "instagram_business_content_publish"),
        Mode.DRAFT: (),
    },
}


@dataclass(frozen=True)
class Revocation:
    """What a revoke did in the database, and the token to revoke at the platform once it committed."""

    account: SocialAccount
    layer: Layer | None
    canceled_post_ids: list[str]
    access_token: str | None  # None: nothing to revoke upstream (already revoked, or Instagram)


async def mark_reauth_required(session: AsyncSession, *, account_id: str, reason: str) -> bool:
    """A token died for good: connected → reauth_required, so no post tries it until a reauth.

    The one seam for `social_account.needs_reauth`: returns True only for the call that changed
    the status, so the event is emitted once. Callers commit.
    """
    changed = await repository.mark_reauth_required(session, account_id=account_id, reason=reason)
    if changed:
        log.warning("social_account.needs_reauth", extra={"socialAccountId": account_id, "reason": reason})
    return changed


async def list_project_accounts(
    session: AsyncSession, *, organization_id: OrganizationId, project_id: str, cursor: str | None, limit: int
) -> tuple[list[tuple[SocialAccount, Layer | None]], str | None]:
    """One page of the project's accounts in connection order, and the cursor of the next."""
    await get_project(session, organization_id=organization_id, project_id=project_id)
    after = decode_cursor(cursor) if cursor else None
    accounts = await repository.page_of_project(session, project_id=project_id, after=after, limit=limit + 1)
    next_cursor = encode_cursor(accounts[limit - 1]) if len(accounts) > limit else None
    accounts = accounts[:limit]
    layers = await _layers(session, accounts)
    return [(account, layers.get(account.layer_id)) for account in accounts], next_cursor


async def list_accounts(
    session: AsyncSession, *, organization_id: OrganizationId, project_id: str | None
) -> list[tuple[SocialAccount, Layer | None]]:
    """The organization's accounts (of one of its projects, if given; 404 for another's) with their layers."""
    if project_id is not None:
        await get_project(session, organization_id=organization_id, project_id=project_id)
    return await repository.list_with_layers(session, organization_id=organization_id, project_id=project_id)


async def get_account(
    session: AsyncSession,
    *,
    organization_id: OrganizationId,
    project_id: str,
    account_id: str,
    for_update: bool = False,
) -> tuple[SocialAccount, Layer | None]:
    """The account of this project and organization (404 otherwise, other organizations included)."""
    await get_project(session, organization_id=organization_id, project_id=project_id)
    account = await owned_or_404(
        lambda: repository.find_account(
            session,
            account_id=account_id,
            organization_id=organization_id,
            project_id=project_id,
            for_update=for_update,
        ),
        object_id=account_id,
        prefix="sa",
        not_found=NotFound("Social account not found.", details={"socialAccountId": account_id}),
    )
    return account, (await _layers(session, [account])).get(account.layer_id)


async def music_catalog(session: AsyncSession) -> list[TiktokMusicTrack]:
    return await repository.music_catalog(session)


async def revoke_account(
    session: AsyncSession,
    *,
    organization_id: OrganizationId,
    project_id: str,
    account_id: str,
    settings: Settings,
) -> Revocation:
    """Mark the account revoked and cancel its unclaimed posts, in the caller's transaction.

    Posts a worker already claimed (`publishing`) finish. Revoking twice changes nothing more.
    """
    account, layer = await get_account(
        session,
        organization_id=organization_id,
        project_id=project_id,
        account_id=account_id,
        for_update=True,
    )
    if account.status == "revoked":
        return Revocation(account, layer, [], None)
    canceled = []
    for post in await repository.lock_cancelable_posts(session, account_id=account.id):
        await scheduled_posts.mark_canceled(session, post=post)
        canceled.append(post.id)
    account.status = "revoked"
    account.disconnected_reason = "revoked by the partner"
    account.disconnected_at = utcnow()
    await session.flush()
    await session.refresh(account)
    log.info("social_account.revoked", extra={"socialAccountId": account.id, "canceledPosts": len(canceled)})
    return Revocation(account, layer, canceled, _revocable_token(account, settings))


def _revocable_token(account: SocialAccount, settings: Settings) -> str | None:
    """The token to revoke upstream, or None when there is no way to: Instagram Login has no
    revocation endpoint (PLATFORMS.md §8), and TikTok's needs the app's credentials."""
    if account.platform != Platform.TIKTOK or not settings.tiktok_client_key:
        return None
    return crypto.decrypt(account.access_token_encrypted)


def missing_scopes(account: SocialAccount) -> dict[str, list[str]]:
    """Per mode, the platform scopes the account lacks."""
    granted = set(account.granted_scopes)
    needed = SCOPES_NEEDED[account.platform]
    return {
        mode: [scope for scope in needed[mode] if scope not in granted] for mode in (Mode.PUBLISH, Mode.DRAFT)
    }


def account_out(account: SocialAccount, layer: Layer | None) -> dict[str, Any]:
    """The partner's view of an account (ACCOUNTS.md); tokens never appear here."""
    return {
        "id": account.id,
        "platform": account.platform,
        "handle": account.handle,
        "displayName": account.display_name,
        "avatarUrl": account.avatar_url,
        "status": account.status,
        "grantedScopes": account.granted_scopes,
        "readiness": readiness(account, layer),
        "tokenExpiresAt": account.token_expires_at,
        "connectedAt": account.connected_at,
    }


def health_out(account: SocialAccount) -> dict[str, Any]:
    return {
        "status": account.status,
        "tokenExpiresAt": account.token_expires_at,
        "refreshTokenExpiresAt": account.refresh_token_expires_at,
        "lastRefreshAt": account.last_refresh_at,
        "lastRefreshError": account.last_refresh_error,
        "grantedScopes": account.granted_scopes,
        "missingScopes": missing_scopes(account),
    }


def encode_cursor(account: SocialAccount) -> str:
    """Opaque to partners: base64url of the last row's (created_at, id) at full precision."""
    raw = json.dumps([account.created_at.isoformat(), account.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, account_id = json.loads(raw)
        created_at = datetime.fromisoformat(when)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise validation_error("query.cursor", "cursor is not valid; pass nextCursor unchanged") from None
    if created_at.tzinfo is None or not isinstance(account_id, str) or not is_valid_id(account_id, "sa"):
        raise validation_error("query.cursor", "cursor is not valid; pass nextCursor unchanged")
    return created_at, account_id


async def _layers(session: AsyncSession, accounts: list[SocialAccount]) -> dict[str | None, Layer]:
    return await repository.layers_by_id(
        session, {account.layer_id for account in accounts if account.layer_id}
    )
