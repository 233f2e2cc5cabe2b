"""One validation and write path for /publish and /schedule, in the order of CONTRACT §4.

It never commits, and writes with one statement: the batch and its webhook events, on the asyncpg
connection the caller hands it (core.db's driver_autocommit, or driver_connection under a session),
so that the batch is all-or-nothing with or without a transaction around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel

from crier.accounts.readiness import is_ready
from crier.accounts.repository import LayerView, accounts_by_id
from crier.approval.service import approval_required
from crier.core.clock import utcnow
from crier.core.db import DriverRow
from crier.core.errors import (
    ApprovalRequired,
    Conflict,
    ContentRejected,
    DuplicateId,
    NotFound,
    NotPublishReady,
    validation_error,
)
from crier.core.ids import new_ids
from crier.core.vocabulary import Mode, Platform, PostStatus
from crier.publishing import repository
from crier.publishing.schemas import Target

# The container row carries its project's approval policy (repository.read_container reads both at once).
Container = DriverRow
Accounts = dict[str, tuple[DriverRow, LayerView | None]]


@dataclass(frozen=True)
class Accepted:
    scheduled_post_ids: list[str]
    blocked_on_approval: bool


def check_body(targets: list[Target], *, scheduled_for: datetime | None = None) -> None:
    """Step 2, the schema rules that span fields (pydantic has checked types, enums and lengths)."""
    for index, target in enumerate(targets):
        path = f"body.targets.{index}"
        if target.tiktok_music is not None and target.mode == Mode.DRAFT:
            raise validation_error(
                f"{path}.tiktokMusic",
                "tiktokMusic cannot be set on a draft target (TikTok inbox drafts have no music slot)",
                reason="draft_target",
            )
        if target.share_reel_to_feed is not None and target.mode != Mode.PUBLISH:
            raise validation_error(
                f"{path}.shareReelToFeed",
                "shareReelToFeed is only allowed in mode 'publish'",
                reason="non_publish_mode",
                mode=target.mode,
            )
    seen: set[str] = set()
    for index, target in enumerate(targets):
        if target.scheduled_post_id is None:
            continue
        if target.scheduled_post_id in seen:
            raise validation_error(
                f"body.targets.{index}.scheduledPostId",
                "scheduledPostId is repeated in the batch",
                reason="duplicate_in_batch",
                scheduledPostId=target.scheduled_post_id,
            )
        seen.add(target.scheduled_post_id)
    if scheduled_for is not None and scheduled_for <= utcnow():
        raise validation_error("body.scheduledFor", "scheduledFor must be in the future")


async def accept(
    connection: asyncpg.Connection,
    *,
    organization_id: str,
    container_id: str,
    targets: list[Target],
    scheduled_for: datetime | None,
    stash_when_gated: bool,
    request_id: str | None,
) -> Accepted:
    """Steps 4–10, then the whole batch in one INSERT; `scheduled_for=None` means now (/publish).

    The container is read, checked, then locked and compared by the INSERT itself: should it have
    changed in between (approved, rejected, edited), nothing is written and the batch is decided
    again on what the container is now.
    """
    for _ in range(_DECISIONS):
        container = await repository.read_container(
            connection, organization_id=organization_id, container_id=container_id
        )
        _check_container(container)
        accounts = await accounts_by_id(
            connection, organization_id=organization_id, account_ids=[t.social_account_id for t in targets]
        )
        _check_accounts(container, targets, accounts)
        _check_cross_fields(container, targets, accounts)
        await _check_tracks(connection, targets)
        _check_readiness(targets, accounts)
        gated = approval_required(project=container, container=container)  # the row carries the policy
        if gated and not stash_when_gated:
            raise ApprovalRequired(
                "The container must be approved before it can publish; re-issue once approved.",
                details={"containerId": container.id, "approvalStatus": container.approval_status},
            )
        await _check_partner_ids(connection, targets)
        rows = _rows(container, targets, accounts, scheduled_for or utcnow(), gated, request_id)
        if await repository.insert_posts(connection, container=container, rows=rows):
            return Accepted([row["id"] for row in rows], gated)
    raise Conflict("The container kept changing while the batch was written; send it again.")


# How many times a batch is decided before giving up: each retry means the container changed between
# two statements a millisecond apart, so a third is already a container under a storm of edits.
_DECISIONS = 3


def _check_container(container: Container) -> None:
    if container.status != "completed":
        raise Conflict("The container is not completed.", details={"status": container.status})
    if container.approval_status == "rejected":
        raise ContentRejected(details={"approvalStatus": "rejected"})


def _check_accounts(container: Container, targets: list[Target], accounts: Accounts) -> None:
    for target in targets:
        if target.social_account_id not in accounts:
            raise NotFound("Social account not found.", details={"socialAccountId": target.social_account_id})
    for index, target in enumerate(targets):
        account, _ = accounts[target.social_account_id]
        if account.project_id != container.project_id:
            raise validation_error(
                f"body.targets.{index}.socialAccountId",
                "the social account belongs to another project than the container",
                reason="project_mismatch",
                socialAccountId=account.id,
            )


def _check_cross_fields(container: Container, targets: list[Target], accounts: Accounts) -> None:
    for index, target in enumerate(targets):
        if target.share_reel_to_feed is None:
            continue
        account, _ = accounts[target.social_account_id]
        path = f"body.targets.{index}.shareReelToFeed"
        if account.platform != Platform.INSTAGRAM:
            raise validation_error(
                path,
                "shareReelToFeed applies to Instagram targets only",
                reason="non_instagram_target",
                platform=account.platform,
                socialAccountId=account.id,
            )
        if container.media_type != "video":
            raise validation_error(
                path,
                "shareReelToFeed applies to video containers only",
                reason="non_video_container",
                mediaType=container.media_type,
            )


async def _check_tracks(connection: asyncpg.Connection, targets: list[Target]) -> None:
    wanted = [
        t.tiktok_music.track_id
        for t in targets
        if t.tiktok_music and t.tiktok_music.mode == "manual" and t.tiktok_music.track_id is not None
    ]  # manual music always names a track (TiktokMusic refuses it without one)
    known = await repository.known_track_ids(connection, track_ids=sorted(set(wanted)))
    for index, target in enumerate(targets):
        music = target.tiktok_music
        if music and music.mode == "manual" and music.track_id not in known:
            raise validation_error(
                f"body.targets.{index}.tiktokMusic.trackId",
                "trackId is not in the TikTok music catalog (GET /v1/tiktok-music)",
                reason="unknown_track",
                trackId=music.track_id,
            )


def _check_readiness(targets: list[Target], accounts: Accounts) -> None:
    for target in targets:
        account, layer = accounts[target.social_account_id]
        if not is_ready(account, target.mode, layer):
            raise NotPublishReady(
                f"The social account cannot publish in mode '{target.mode}'.",
                details={"socialAccountId": account.id, "mode": target.mode},
            )


async def _check_partner_ids(connection: asyncpg.Connection, targets: list[Target]) -> None:
    supplied = [t.scheduled_post_id for t in targets if t.scheduled_post_id]
    taken = await repository.existing_post_ids(connection, post_ids=supplied)
    for post_id in supplied:
        if post_id in taken:
            raise DuplicateId(
                "A scheduledPostId already exists; pick a fresh sp_<uuid>.",
                details={"scheduledPostId": post_id},
            )


def _rows(
    container: Container,
    targets: list[Target],
    accounts: Accounts,
    scheduled_for: datetime,
    gated: bool,
    request_id: str | None,
) -> list[dict[str, Any]]:
    """One row per target; a stashed target has no due time until approval promotes it."""
    fresh_ids = iter(new_ids("sp", sum(1 for target in targets if target.scheduled_post_id is None)))
    status = PostStatus.BLOCKED_ON_APPROVAL if gated else PostStatus.SCHEDULED
    due_at = None if gated else scheduled_for
    return [
        {
            "id": target.scheduled_post_id or next(fresh_ids),
            "organization_id": container.organization_id,
            "project_id": container.project_id,
            "container_id": container.id,
            "social_account_id": target.social_account_id,
            "platform": accounts[target.social_account_id][0].platform,
            "mode": target.mode,
            "status": status,
            "scheduled_for": scheduled_for,
            "due_at": due_at,
            "batch_position": position,
            "caption_override": target.caption_override,
            "first_comment_override": target.first_comment_override,
            "tiktok_post_settings": _wire(target.tiktok_post_settings),
            "tiktok_music": _wire(target.tiktok_music),
            "share_reel_to_feed": target.share_reel_to_feed,
            "caption_sent": (
                target.caption_override if target.caption_override is not None else container.caption
            )
            or "",
            "request_id": request_id,
        }
        for position, target in enumerate(targets)
    ]


def _wire(model: BaseModel | None) -> str | None:
    # Stored with the wire's camelCase keys: delivery and the read endpoints echo them as sent.
    # JSON text (the INSERT casts it to jsonb); SQL NULL, not JSON null, when absent.
    return None if model is None else model.model_dump_json(by_alias=True, exclude_none=True)
