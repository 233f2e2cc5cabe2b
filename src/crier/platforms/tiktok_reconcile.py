"""Settling a TikTok init whose answer was lost, from the creator's video list (PLATFORMS.md §6).

Without a `publish_id` the only record TikTok offers is the Display API's list of the creator's
public videos (`POST /v2/video/list/`, scope `video.list`): a video created after the intent whose
title is the one sent is the post. Drafts and SELF_ONLY posts are never listed, and an account that
did not grant `video.list` cannot be asked: those outcomes stay unknown.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from crier.core.settings import Settings
from crier.core.vocabulary import Mode
from crier.platforms.base import DeliveryJob, DeliveryStore, Outcome
from crier.platforms.limits import TIKTOK_PHOTO_TITLE_MAX, TIKTOK_VIDEO_TITLE_MAX
from crier.platforms.reconcile import Reconciliation
from crier.platforms.steps import StepFailed
from crier.platforms.tiktok_client import PLATFORM, TikTokClient

VIDEO_LIST = "/v2/video/list/?fields=id,title,create_time,share_url"
VIDEO_ID = "tiktok_video_id"  # journaled when the list found the post
VIDEO_URL = "tiktok_video_url"
LIST_SCOPE = "video.list"
PAGE_SIZE = 20
MAX_PAGES = 5  # 100 newest videos: far more than a creator posts within one reconciliation window


def sent_title(job: DeliveryJob) -> str:
    """The title the init carried (photos: TikTok's 90-character title, videos: the caption)."""
    limit = TIKTOK_VIDEO_TITLE_MAX if job.media_type == "video" else TIKTOK_PHOTO_TITLE_MAX
    return job.caption[:limit]


async def reconcile_init(
    client: TikTokClient, job: DeliveryJob, store: DeliveryStore, settings: Settings, *, marker: str
) -> Outcome | None:
    """Settle the lost init: an Outcome, or None when absence is proven and the init may go once more."""
    reconciliation = Reconciliation(store, settings, platform=PLATFORM, marker=marker, step="TikTok init")
    await reconciliation.begin()
    if job.mode == Mode.DRAFT:
        return await reconciliation.unknown("TikTok does not list inbox drafts")
    if job.tiktok_post_settings.get("privacyLevel") == "SELF_ONLY":
        return await reconciliation.unknown("TikTok does not list SELF_ONLY posts")
    if LIST_SCOPE not in job.account.granted_scopes:
        return await reconciliation.unknown(
            "the account did not grant the video.list scope, so TikTok cannot be asked"
        )
    try:
        video, complete = await _find_video(client, job, after=reconciliation.match_after)
    except StepFailed as failed:
        return await reconciliation.refused(failed, "TikTok refused the video list")
    if video is not None:
        video_id, url = str(video["id"]), video.get("share_url") or None
        await reconciliation.found(**{VIDEO_ID: video_id, VIDEO_URL: url})
        return Outcome.published(video_id, url)
    return await reconciliation.not_found(complete=complete)


def found_video(store: DeliveryStore) -> Outcome | None:
    """The post an earlier reconciliation found (its final write may not have landed)."""
    video_id = store.handles.get(VIDEO_ID)
    return Outcome.published(str(video_id), store.handles.get(VIDEO_URL)) if video_id else None


async def _find_video(
    client: TikTokClient, job: DeliveryJob, *, after: datetime
) -> tuple[dict[str, Any] | None, bool]:
    """The matching video, and whether every video created after `after` was seen (absence proof)."""
    title = sent_title(job).strip()
    cursor: Any = None
    for _ in range(MAX_PAGES):
        body: dict[str, Any] = {"max_count": PAGE_SIZE}
        if cursor is not None:
            body["cursor"] = cursor
        data = await client.post(VIDEO_LIST, body, what="TikTok video list", big_ints_as_str=True)
        videos = [video for video in data.get("videos") or [] if isinstance(video, dict)]
        for video in videos:
            created = _created_at(video.get("create_time"))
            if (
                created is not None
                and created >= after
                and str(video.get("title") or "").strip() == title
                and video.get("id")
            ):
                return video, True
        oldest = _created_at(videos[-1].get("create_time")) if videos else None
        if not data.get("has_more") or oldest is None or oldest < after:
            return None, True  # newest first: everything further down is older than the intent
        cursor = data.get("cursor")
    return None, False


def _created_at(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None
