"""TikTok Content Posting API adapter: direct posts (`publish`) and inbox drafts (`draft`).

Journal handles: `tiktok_init_sent` (intent marker, set before the init call, with its time in
`tiktok_init_sent_at`; found without a publish_id it starts reconciliation, see tiktok_reconcile),
`tiktok_publish_id`
(the init's answer), `tiktok_username` (creator_info's creator_username, journaled with the
publish id; it builds externalUrl) and `tiktok_idless_polls` (PUBLISH_COMPLETE polls that carried
no post id yet).
"""

from __future__ import annotations

from typing import Any

import httpx

from crier.core.settings import Settings
from crier.core.vocabulary import Mode
from crier.platforms.base import DeliveryJob, DeliveryStore, Outcome, PlatformError
from crier.platforms.limits import (
    LEARNED_BY_CODE,
    TIKTOK_CREATOR_INFO,
    TIKTOK_DIRECT_POSTS,
    TIKTOK_INBOX_SHARES,
    TIKTOK_INIT,
    TIKTOK_PHOTO_DESCRIPTION_MAX,
    TIKTOK_PHOTO_IMAGES_MAX,
    TIKTOK_STATUS,
    deferral_error,
)
from crier.platforms.pacing import cap_wait, learn_cap, slot_soon, take_slot
from crier.platforms.progress import TIKTOK_FAILED
from crier.platforms.reconcile import Reconciliation
from crier.platforms.steps import StepFailed, irreversible
from crier.platforms.tiktok_client import PLATFORM, TikTokClient, error_code
from crier.platforms.tiktok_reconcile import found_video, reconcile_init, sent_title

INIT_SENT = "tiktok_init_sent"
PUBLISH_ID = "tiktok_publish_id"
IDLESS_POLLS = "tiktok_idless_polls"
USERNAME = "tiktok_username"

CREATOR_INFO = "/v2/post/publish/creator_info/query/"
VIDEO_INIT = "/v2/post/publish/video/init/"
INBOX_VIDEO_INIT = "/v2/post/publish/inbox/video/init/"
CONTENT_INIT = "/v2/post/publish/content/init/"
STATUS_FETCH = "/v2/post/publish/status/fetch/"

DEFAULT_PRIVACY = "PUBLIC_TO_EVERYONE"
LEARNED_BY_ERROR = {error_code(code): cap for code, cap in LEARNED_BY_CODE.items()}
_INIT_RATE = f"{TIKTOK_INIT.call} ({TIKTOK_INIT.per_window} per minute per token)"
# After PUBLISH_COMPLETE the public id can lag (moderation); poll this many more times for it,
# then report the live post with externalId/externalUrl null rather than holding it back.
MAX_IDLESS_POLLS = 3


class TikTokAdapter:
    """Delivers one post to TikTok; each advance() does the next step its journal lacks."""

    def __init__(self, *, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http, self.settings = http, settings

    async def advance(self, job: DeliveryJob, store: DeliveryStore) -> Outcome:
        """Init the post once, then poll its status until TikTok settles it."""
        try:
            return await self._advance(job, store)
        except StepFailed as failed:
            return failed.outcome

    async def _advance(self, job: DeliveryJob, store: DeliveryStore) -> Outcome:
        publish_id = store.handles.get(PUBLISH_ID)
        if not publish_id and (found := found_video(store)) is not None:
            return found
        client = TikTokClient(job, store, self.http, self.settings)
        await client.ensure_fresh_token()
        if not publish_id and store.handles.get(INIT_SENT):
            # The init went out and its answer was lost: a second init could post twice, so TikTok's
            # own record decides (reconciliation); only proven absence lets the init go once more.
            settled = await reconcile_init(client, job, store, self.settings, marker=INIT_SENT)
            if settled is not None:
                return settled
        if not publish_id:
            return await self._init(client, job, store)
        return await self._poll(client, job, store, publish_id)

    async def _init(self, client: TikTokClient, job: DeliveryJob, store: DeliveryStore) -> Outcome:
        """Within the platform's limits, send the init once and journal its publish_id."""
        held = await self._hold_for_limits(job, store)
        if held is not None:
            return held
        path, body, username = await self._init_request(client, job, store)
        wait = await take_slot(store, self.settings, TIKTOK_INIT)
        if wait is not None:  # another post took the slot meanwhile
            return Outcome.deferred(deferral_error(PLATFORM, _INIT_RATE, wait), wait)
        try:
            data = await irreversible(store, INIT_SENT, lambda: client.post(path, body, what="TikTok init"))
        except StepFailed as failed:
            learned = LEARNED_BY_ERROR.get(failed.outcome.error.code if failed.outcome.error else "")
            if learned is None:
                raise
            # A cap TikTok does not publish: learn it from what Crier sent, and wait it out.
            wait = await learn_cap(store, learned)
            return Outcome.deferred(deferral_error(PLATFORM, learned, wait), wait)
        await store.ledger.log_sent(_cap_of(job))
        publish_id = data.get("publish_id")
        if not publish_id:
            # TikTok said ok but the handle is missing: as good as a lost answer.
            reconciliation = Reconciliation(
                store, self.settings, platform=PLATFORM, marker=INIT_SENT, step="TikTok init"
            )
            await reconciliation.begin()
            return reconciliation.waiting()
        handles: dict[str, Any] = {PUBLISH_ID: publish_id}
        if username:
            handles[USERNAME] = username
        await store.record(**handles)
        return Outcome.processing()

    async def _hold_for_limits(self, job: DeliveryJob, store: DeliveryStore) -> Outcome | None:
        """DEFERRED when a learned per-creator cap is full or the token's init rate has no slot soon."""
        cap = _cap_of(job)
        wait = await cap_wait(store, cap)
        if wait is None:
            # Only a look: the slot itself is taken right before the init, after creator_info.
            wait = await slot_soon(store, self.settings, TIKTOK_INIT)
            cap = _INIT_RATE
        return Outcome.deferred(deferral_error(PLATFORM, cap, wait), wait) if wait is not None else None

    async def _init_request(
        self, client: TikTokClient, job: DeliveryJob, store: DeliveryStore
    ) -> tuple[str, dict[str, Any], str | None]:
        """The init call's path and body, and the creator's username when creator_info was asked."""
        photos = job.media_type != "video"
        if job.mode == Mode.DRAFT:
            if photos:
                body = _photo_body(job, post_mode="MEDIA_UPLOAD", post_info=_photo_text(job))
                return CONTENT_INIT, body, None
            return (
                INBOX_VIDEO_INIT,
                {"source_info": {"source": "PULL_FROM_URL", "video_url": job.media_urls[0]}},
                None,
            )
        wait = await take_slot(store, self.settings, TIKTOK_CREATOR_INFO)
        if wait is not None:
            limit = f"{TIKTOK_CREATOR_INFO.call} ({TIKTOK_CREATOR_INFO.per_window} per minute per token)"
            raise StepFailed(Outcome.deferred(deferral_error(PLATFORM, limit, wait), wait), rejected=True)
        creator = await client.post(CREATOR_INFO, what="TikTok creator_info")
        name = creator.get("creator_username")
        username = (name.strip().lstrip("@") or None) if isinstance(name, str) else None
        privacy = _checked_privacy(job, creator)
        settings = job.tiktok_post_settings
        # TikTok's guidelines: an interaction the creator disabled stays disabled.
        disable_comment = bool(settings.get("disableComment")) or bool(creator.get("comment_disabled"))
        brand = {
            "brand_content_toggle": bool(settings.get("isBrandedContent")),
            "brand_organic_toggle": bool(settings.get("isBrandOrganic")),
        }
        if photos:
            post_info = {
                **_photo_text(job),
                "privacy_level": privacy,
                "disable_comment": disable_comment,
                "auto_add_music": _auto_add_music(job.tiktok_music),
                **brand,
            }
            return CONTENT_INIT, _photo_body(job, post_mode="DIRECT_POST", post_info=post_info), username
        post_info = {
            "title": sent_title(job),
            "privacy_level": privacy,
            "disable_duet": bool(settings.get("disableDuet")) or bool(creator.get("duet_disabled")),
            "disable_comment": disable_comment,
            "disable_stitch": bool(settings.get("disableStitch")) or bool(creator.get("stitch_disabled")),
            **brand,
        }
        return (
            VIDEO_INIT,
            {
                "post_info": post_info,
                "source_info": {"source": "PULL_FROM_URL", "video_url": job.media_urls[0]},
            },
            username,
        )

    async def _poll(
        self, client: TikTokClient, job: DeliveryJob, store: DeliveryStore, publish_id: str
    ) -> Outcome:
        wait = await take_slot(store, self.settings, TIKTOK_STATUS)
        if wait is not None:
            return Outcome.processing(retry_after=wait)  # accepted already: poll later, never defer
        data = await client.post(
            STATUS_FETCH, {"publish_id": publish_id}, what="TikTok status fetch", big_ints_as_str=True
        )
        status = data.get("status")
        if status == "FAILED":
            # The publish_id is spent: retrying would need a second init, which could double-post.
            reason = str(data.get("fail_reason") or "unknown")
            # TikTok's own record says nothing was published: a partner's retry is safe (progress.py).
            await store.record(**{TIKTOK_FAILED: reason})
            return Outcome.terminal(
                PlatformError(
                    error_code(reason),
                    f"TikTok could not publish the post (fail_reason: {reason}).",
                    PLATFORM,
                )
            )
        if status == "SEND_TO_USER_INBOX" or (status == "PUBLISH_COMPLETE" and job.mode == Mode.DRAFT):
            # Delivered to the creator's inbox; whatever they do next happens on their phone.
            return Outcome.draft(publish_id)
        if status == "PUBLISH_COMPLETE":
            ids = data.get("publicaly_available_post_id") or []
            if ids:
                post_id = str(ids[0])
                # creator_info's username when journaled (a rescued older journal may lack it).
                username = store.handles.get(USERNAME) or job.account.handle
                return Outcome.published(post_id, _post_url(str(username), post_id))
            polls = int(store.handles.get(IDLESS_POLLS) or 0)
            if polls < MAX_IDLESS_POLLS:
                await store.record(**{IDLESS_POLLS: polls + 1})
                return Outcome.processing()
            return Outcome.published(None, None)
        # PROCESSING_* (and any state TikTok adds later): poll again; the runner bounds the wait.
        return Outcome.processing()


def _cap_of(job: DeliveryJob) -> str:
    """The per-creator cap a post counts against: inbox shares for drafts, direct posts otherwise."""
    return TIKTOK_INBOX_SHARES if job.mode == Mode.DRAFT else TIKTOK_DIRECT_POSTS


def _checked_privacy(job: DeliveryJob, creator: dict[str, Any]) -> str:
    privacy = job.tiktok_post_settings.get("privacyLevel") or DEFAULT_PRIVACY
    options = creator.get("privacy_level_options")
    if isinstance(options, list) and privacy not in options:
        allowed = ", ".join(str(option) for option in options) or "none"
        raise StepFailed(
            Outcome.terminal(
                PlatformError(
                    error_code("privacy_level_option_mismatch"),
                    f"privacyLevel {privacy} is not available for this TikTok account "
                    f"(it allows: {allowed}). Re-issue the post with one of those.",
                    PLATFORM,
                )
            ),
            rejected=True,
        )
    return privacy


def _auto_add_music(music: dict[str, Any] | None) -> bool:
    # Absent tiktokMusic means no music was asked for: a trending sound is only added on request.
    # `manual` degrades to `auto` on direct posts (the seed: the API takes no catalog track).
    if not music:
        return False
    return music.get("mode") in ("auto", "manual")


def _photo_text(job: DeliveryJob) -> dict[str, str]:
    return {"title": sent_title(job), "description": job.caption[:TIKTOK_PHOTO_DESCRIPTION_MAX]}


def _photo_body(job: DeliveryJob, *, post_mode: str, post_info: dict[str, Any]) -> dict[str, Any]:
    return {
        "media_type": "PHOTO",
        "post_mode": post_mode,
        "post_info": post_info,
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_images": list(job.media_urls[:TIKTOK_PHOTO_IMAGES_MAX]),
            "photo_cover_index": 0,
        },
    }


def _post_url(handle: str, post_id: str) -> str:
    return f"https://www.tiktok.com/@{handle.lstrip('@')}/video/{post_id}"
