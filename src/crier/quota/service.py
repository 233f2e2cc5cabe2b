"""GET /v1/social-accounts/{id}/quota: each limit Crier knows for the account, and what it used."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.clock import utcnow
from crier.core.errors import NotFound
from crier.core.ids import is_valid_id
from crier.core.settings import Settings
from crier.core.vocabulary import Platform
from crier.models import SocialAccount
from crier.platforms.limits import (
    DAY_SECONDS,
    INSTAGRAM_MEDIA_PUBLISH_CALL,
    INSTAGRAM_PUBLISHING,
    TIKTOK_DIRECT_POSTS,
    TIKTOK_INBOX_SHARES,
    TIKTOK_RATES,
)
from crier.quota import repository
from crier.quota.schemas import LimitOut, QuotaOut


async def account_quota(
    session: AsyncSession, *, organization_id: str, account_id: str, settings: Settings
) -> QuotaOut:
    """The account's limits: documented call rates, learned caps, the platform's own quota."""
    account = await session.get(SocialAccount, account_id) if is_valid_id(account_id, "sa") else None
    if account is None or account.organization_id != organization_id:
        raise NotFound("Social account not found.")
    if account.platform == Platform.TIKTOK:
        limits = [
            await _rate(session, account.id, rate.call, rate.per_window, settings.tiktok_rate_window_seconds)
            for rate in TIKTOK_RATES
        ]
        limits += [
            await _cap(session, account.id, name, log=name)
            for name in (TIKTOK_DIRECT_POSTS, TIKTOK_INBOX_SHARES)
        ]
    else:
        limits = [await _cap(session, account.id, INSTAGRAM_PUBLISHING, log=INSTAGRAM_MEDIA_PUBLISH_CALL)]
    return QuotaOut(platform=account.platform, limits=limits)


async def _rate(session: AsyncSession, account_id: str, call: str, limit: int, window: float) -> LimitOut:
    used, frees = await repository.sent_within(
        session, account_id=account_id, call=call, window_seconds=window
    )
    return LimitOut(
        name=call, window=round(window), limit=limit, used=used, resets_at=_after(frees), source="documented"
    )


async def _cap(session: AsyncSession, account_id: str, name: str, *, log: str) -> LimitOut:
    found = await repository.find_quota(session, account_id=account_id, name=name)
    if found is None:
        # Nothing asked or learned yet: Crier's own count over a day, limit unknown.
        used, frees = await repository.sent_within(
            session, account_id=account_id, call=log, window_seconds=DAY_SECONDS
        )
        return LimitOut(
            name=name,
            window=round(DAY_SECONDS),
            limit=None,
            used=used,
            resets_at=_after(frees),
            source="documented",
        )
    quota, _, _ = found
    used = quota.used
    if quota.source == "learned":
        used, _ = await repository.sent_within(
            session, account_id=account_id, call=log, window_seconds=quota.window_seconds
        )
    resets_at = quota.resets_at
    if resets_at is None:
        _, frees = await repository.sent_within(
            session, account_id=account_id, call=log, window_seconds=quota.window_seconds
        )
        resets_at = _after(frees)
    return LimitOut(
        name=name,
        window=quota.window_seconds,
        limit=quota.limit,
        used=used,
        resets_at=resets_at,
        source=quota.source,
    )


def _after(seconds: float | None):
    return None if seconds is None else utcnow() + timedelta(seconds=max(0.0, seconds))
