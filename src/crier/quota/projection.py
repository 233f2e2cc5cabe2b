"""Preflight's quota projection: would these targets, on top of what is queued, break a known cap?

Only caps Crier knows hold back posts (Instagram's stored content_publishing_limit, TikTok's learned
per-creator caps); per-token call rates only pace them, so they are not problems.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.vocabulary import Mode, Platform
from crier.platforms.limits import INSTAGRAM_PUBLISHING, TIKTOK_DIRECT_POSTS, TIKTOK_INBOX_SHARES
from crier.platforms.preflight import Problem
from crier.quota import repository


class ProjectedAccount(Protocol):
    """What the projection reads of an account: a SocialAccount, or the publish path's row."""

    @property
    def id(self) -> str: ...
    @property
    def platform(self) -> str: ...


def _cap_name(account: ProjectedAccount, mode: str) -> str | None:
    if mode == Mode.MANAGED:
        return None  # the provider's own limits
    if account.platform == Platform.INSTAGRAM:
        return INSTAGRAM_PUBLISHING if mode == Mode.PUBLISH else None
    return TIKTOK_INBOX_SHARES if mode == Mode.DRAFT else TIKTOK_DIRECT_POSTS


async def project(
    session: AsyncSession, *, targets: list[tuple[ProjectedAccount, str]]
) -> dict[str, list[Problem]]:
    """Problems per account id: how many of these targets a known cap would defer."""
    wanted = Counter((account.id, name) for account, mode in targets if (name := _cap_name(account, mode)))
    problems: dict[str, list[Problem]] = {}
    for (account_id, name), count in wanted.items():
        found = await repository.find_quota(session, account_id=account_id, name=name)
        if found is None:
            continue
        quota, _, resets_in = found
        if quota.limit is None or (quota.source == "learned" and resets_in is not None and resets_in <= 0):
            continue
        if quota.source == "learned":
            used, _ = await repository.sent_within(
                session, account_id=account_id, call=name, window_seconds=quota.window_seconds
            )
        else:
            used = quota.used
        queued = await repository.queued_for(session, account_id=account_id)
        over = used + queued + count - quota.limit
        if over > 0:
            problems.setdefault(account_id, []).append(
                Problem(
                    "QUOTA_WOULD_DEFER",
                    f"{name} allows {quota.limit} per {quota.window_seconds // 3600} h ({quota.source}); with "
                    f"{used} used and {queued} queued, {min(over, count)} of these would wait (deferred, not failed).",
                )
            )
    return problems
