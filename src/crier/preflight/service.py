"""Preflight: the contract's checks exactly as /publish runs them, then the platforms' live ones.

The contract's checks are publishing.service.accept itself, run inside a SAVEPOINT that is always
rolled back: the same code decides, in the same order, and its rows never become visible to anyone.
A check that fails answers with the very error /publish would give. The live checks (creator_info,
caption limits, quota projection) come after, with no transaction open while a platform answers.
"""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from crier.accounts import repository as accounts_repository
from crier.content.service import get_container
from crier.core import crypto
from crier.core.db import DriverRow, driver_connection
from crier.core.settings import Settings
from crier.core.vocabulary import Mode, Platform
from crier.models import ContentContainer
from crier.platforms import preflight
from crier.platforms.http import create_http_client
from crier.platforms.limits import TIKTOK_CREATOR_INFO
from crier.preflight.schemas import ProblemOut, TargetReport, ValidateOut
from crier.publishing import service as publishing_service
from crier.publishing.schemas import Target
from crier.quota import projection
from crier.quota.ledger import PostgresLedger
from crier.tenancy.ownership import OrganizationId


async def validate(
    session: AsyncSession,
    *,
    organization_id: OrganizationId,
    container_id: str,
    targets: list[Target],
    settings: Settings,
) -> ValidateOut:
    """200 with every target's problems, or the error /publish would answer for the same body."""
    publishing_service.check_body(targets)
    async with session.begin_nested() as savepoint:
        await publishing_service.accept(
            await driver_connection(session),
            organization_id=organization_id,
            container_id=container_id,
            targets=targets,
            scheduled_for=None,
            stash_when_gated=False,
            request_id=None,
        )
        await savepoint.rollback()  # nothing /publish would write survives
    container = await get_container(session, organization_id=organization_id, container_id=container_id)
    accounts = await accounts_repository.accounts_by_id(
        await driver_connection(session),
        organization_id=organization_id,
        account_ids=[target.social_account_id for target in targets],
    )
    plans = [
        _Plan(index, target, container, accounts[target.social_account_id][0])
        for index, target in enumerate(targets)
    ]
    quota_problems = await projection.project(
        session, targets=[(plan.account, plan.target.mode) for plan in plans]
    )
    await session.rollback()  # ends the read: no transaction stays open while platforms answer
    reports = []
    async with create_http_client(settings) as http:
        for plan in plans:
            problems = plan.static_problems() + await plan.live_problems(http, settings)
            problems += [
                preflight.Problem(p.code, p.message, f"{plan.field}.socialAccountId")
                for p in quota_problems.get(plan.account_id, [])
            ]
            reports.append(
                TargetReport(
                    social_account_id=plan.account_id,
                    problems=[ProblemOut(code=p.code, message=p.message, field=p.field) for p in problems],
                )
            )
    return ValidateOut(ok=all(not report.problems for report in reports), targets=reports)


class _Plan:
    """One target with what its checks need, read before any platform call."""

    def __init__(self, index: int, target: Target, container: ContentContainer, account: DriverRow) -> None:
        # `account` is the publish path's row (accounts_by_id): every social_accounts column.
        # Plain values only: the session's objects expire when the read ends before platform calls.
        self.target, self.account, self.account_id = target, account, account.id
        self.field = f"body.targets.{index}"
        self.platform, self.mode, self.media_type = account.platform, target.mode, container.media_type
        self.caption_override = target.caption_override
        self.caption = (
            target.caption_override if target.caption_override is not None else (container.caption or "")
        )
        self.media_count = len(container.media or [])
        self.durations = [
            float(item["durationSeconds"])
            for item in container.media or []
            if isinstance(item.get("durationSeconds"), int | float)
        ]
        self.tiktok_settings = (
            target.tiktok_post_settings.model_dump(by_alias=True, exclude_none=True)
            if target.tiktok_post_settings
            else {}
        )
        self.access_token = crypto.decrypt(account.access_token_encrypted)

    def static_problems(self) -> list[preflight.Problem]:
        caption_field = f"{self.field}.captionOverride" if self.caption_override is not None else "caption"
        return preflight.caption_problems(
            platform=self.platform,
            mode=self.mode,
            media_type=self.media_type,
            caption=self.caption,
            field=caption_field,
        ) + preflight.media_problems(
            platform=self.platform, mode=self.mode, media_count=self.media_count, field=self.field
        )

    async def live_problems(self, http: httpx.AsyncClient, settings: Settings) -> list[preflight.Problem]:
        if self.platform != Platform.TIKTOK or self.mode != Mode.PUBLISH:
            return []  # only direct TikTok posts depend on what creator_info says
        # creator_info counts against the token's 20 per minute like delivery's calls: same ledger.
        ledger = PostgresLedger(account_id=self.account_id, post_id=None)
        wait = await ledger.pace(
            TIKTOK_CREATOR_INFO.call,
            limit=TIKTOK_CREATOR_INFO.per_window,
            window_seconds=settings.tiktok_rate_window_seconds + settings.pacing_margin_seconds,
            may_wait_seconds=settings.pacing_inline_wait_seconds,
        )
        if wait > settings.pacing_inline_wait_seconds:
            return [
                preflight.Problem(
                    "TIKTOK_CREATOR_INFO_PACED",
                    f"The account's creator_info budget is in use "
                    f"(20 per minute per token); the live checks were skipped. Ask again in "
                    f"{wait:.0f} s.",
                )
            ]
        await asyncio.sleep(wait)
        creator = await preflight.tiktok_creator_info(http, settings, access_token=self.access_token)
        if isinstance(creator, preflight.Problem):
            return [creator]
        return preflight.creator_problems(
            creator,
            settings=self.tiktok_settings,
            media_type=self.media_type,
            durations=self.durations,
            field=self.field,
        )
