"""GET /v1/social-accounts/{id}/quota: each limit Crier knows for the account, and what it used."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from crier.accounts import repository as accounts_repository
from crier.core.clock import utcnow
from crier.core.errors import NotFound
from crier.core.settings import Settings
from crier.core.vocabulary import Platform
from crier.platforms.limits import (
    DAY_SECONDS,
    INSTAGRAM_MEDIA_PUBLISH_CALL,
    INSTAGRAM_PUBLISHING,
    TIKTOK_DIRECT_POSTS,
    TIKTOK_INBOX_SHARES,
    TIKTOK_RATES,
)
from crier.quota import repository
from crier.quota.schemas import LimitOut, LimitSource, QuotaOut
from crier.tenancy.ownership import OrganizationId, owned_or_404


async def account_quota(
    session: AsyncSession, *, organization_id: OrganizationId, account_id: str, settings: Settings
) -> QuotaOut:
    """The account's limits: documented call rates, learned caps, the platform's own quota."""
    account = await owned_or_404(
        lambda: accounts_repository.find_account(
            session, account_id=account_id, organization_id=organization_id
        ),
        object_id=account_id,
        prefix="sa",
        not_found=NotFound("Social account not found."),
    )
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
        source=cast(LimitSource, quota.source),  # its column's CHECK constraint allows only these
    )


def _after(seconds: float | None) -> datetime | None:
    return None if seconds is None else utcnow() + timedelta(seconds=max(0.0, seconds))
