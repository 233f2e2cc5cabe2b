"""Instagram Graph API adapter for `publish`: image → feed, video → Reel, multi → carousel.

Journal handles: `ig_child_ids` (carousel item containers, in media order), `ig_container_id`,
`ig_publish_sent` (intent marker, set before media_publish), `ig_media_id` (the live post),
`ig_comment_sent` / `ig_comment_id` (first comment: at most one attempt), `ig_comment_error`,
`ig_token_refresh_error` (a proactive token refresh failed: not tried again for this post).
Containers are not posts, so creating one twice costs quota but never double-posts: they carry no
intent marker. media_publish does; a lost answer is settled by reading the container's status.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import httpx

from crier.core.settings import Settings
from crier.platforms.base import DeliveryJob, DeliveryStore, Outcome, OutcomeKind, PlatformError
from crier.platforms.instagram_client import PLATFORM, GraphClient
from crier.platforms.instagram_quota import hold_for_quota, published_one, refused_for_quota
from crier.platforms.instagram_reconcile import find_media, reconcile_publish
from crier.platforms.limits import INSTAGRAM_CAROUSEL_MAX
from crier.platforms.reconcile import STARTED_AT
from crier.platforms.steps import StepFailed, fail, irreversible

logger = logging.getLogger(__name__)

CHILD_IDS = "ig_child_ids"
CONTAINER_ID = "ig_container_id"
PUBLISH_SENT = "ig_publish_sent"
MEDIA_ID = "ig_media_id"
COMMENT_SENT = "ig_comment_sent"
COMMENT_ID = "ig_comment_id"
COMMENT_ERROR = "ig_comment_error"

VIDEO_SUFFIXES = (".mp4", ".mov")


class InstagramAdapter:
    """Delivers one post to Instagram; each advance() does the next step its journal lacks."""

    def __init__(self, *, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http, self.settings = http, settings

    async def advance(self, job: DeliveryJob, store: DeliveryStore) -> Outcome:
        """Create the container, publish it once it is FINISHED, then comment and read the permalink."""
        graph = GraphClient(job, store, self.http, self.settings)
        await graph.refresh_if_old()  # never fails the post: the current token is still valid
        try:
            if store.handles.get(STARTED_AT) and not store.handles.get(MEDIA_ID):
                # An open reconciliation: the media list decides before anything is sent again.
                settled = await self._reconcile(graph, job, store)
                if settled is not None:
                    return settled
            if not store.handles.get(MEDIA_ID):
                container_id = store.handles.get(CONTAINER_ID) or await self._create_container(
                    graph, job, store
                )
                waiting = await self._publish(graph, job, store, container_id)
                if waiting is not None:
                    return waiting
        except StepFailed as failed:
            return failed.outcome
        # The post is live from here on: nothing below may turn it into a failure.
        media_id = store.handles[MEDIA_ID]
        await self._first_comment(graph, job, store, media_id)
        return Outcome.published(media_id, await _permalink(graph, media_id))

    async def _create_container(self, graph: GraphClient, job: DeliveryJob, store: DeliveryStore) -> str:
        ig_user = job.account.external_account_id
        if job.media_type == "video":
            share = True if job.share_reel_to_feed is None else job.share_reel_to_feed
            fields = {
                "media_type": "REELS",
                "video_url": job.media_urls[0],
                "caption": job.caption,
                "share_to_feed": "true" if share else "false",
            }
        elif job.media_type == "image":
            fields = {"image_url": job.media_urls[0], "caption": job.caption}
        else:
            if len(job.media_urls) > INSTAGRAM_CAROUSEL_MAX:
                # Refuse before creating any item: Graph rejects the parent only after every child.
                raise fail(
                    OutcomeKind.TERMINAL,
                    PLATFORM,
                    "IG_CAROUSEL_TOO_LARGE",
                    f"Instagram carousels take at most {INSTAGRAM_CAROUSEL_MAX} items; this container has "
                    f"{len(job.media_urls)}. Split it or publish it to TikTok.",
                    rejected=True,
                )
            children = await self._create_children(graph, job, store)
            fields = {"media_type": "CAROUSEL", "children": ",".join(children), "caption": job.caption}
        answer = await graph.post(f"{ig_user}/media", what="Instagram container creation", **fields)
        container_id = _id(answer, "Instagram container creation")
        await store.record(**{CONTAINER_ID: container_id})
        return container_id

    async def _create_children(self, graph: GraphClient, job: DeliveryJob, store: DeliveryStore) -> list[str]:
        children = list(store.handles.get(CHILD_IDS) or [])
        for url in job.media_urls[len(children) :]:
            if url.lower().split("?", 1)[0].endswith(VIDEO_SUFFIXES):
                fields = {"is_carousel_item": "true", "media_type": "VIDEO", "video_url": url}
            else:
                fields = {"is_carousel_item": "true", "image_url": url}
            answer = await graph.post(
                f"{job.account.external_account_id}/media", what="Instagram carousel item creation", **fields
            )
            children.append(_id(answer, "Instagram carousel item creation"))
            await store.record(**{CHILD_IDS: list(children)})
        return children

    async def _publish(
        self, graph: GraphClient, job: DeliveryJob, store: DeliveryStore, container_id: str
    ) -> Outcome | None:
        """Publish a FINISHED container (or find the media a lost answer published); None once live."""
        try:
            answer = await graph.get(
                container_id, what="Instagram container status", fields="status_code,status"
            )
        except StepFailed as failed:
            if store.handles.get(PUBLISH_SENT) and failed.outcome.kind is OutcomeKind.TERMINAL:
                # A hard error now says nothing about the media_publish already sent: it may be live,
                # so the account's media list decides (reconciliation).
                settled = await self._reconcile(graph, job, store)
                if settled is not None:
                    return settled
                if store.handles.get(MEDIA_ID):
                    return None
                # Proven absent: a fresh container is published once more.
                container_id = await self._create_container(graph, job, store)
                return await self._publish(graph, job, store, container_id)
            raise
        status_code = answer.get("status_code")
        if status_code == "PUBLISHED":
            # An earlier media_publish went through but its answer was lost.
            media_id = await _find_published_media(graph, job)
            if media_id is None:
                return Outcome.published(None, None)
            await store.record(**{MEDIA_ID: media_id})
            return None
        if status_code in ("ERROR", "EXPIRED"):
            detail = answer.get("status") or status_code
            return Outcome.terminal(
                PlatformError(
                    f"IG_CONTAINER_{status_code}",
                    f"Instagram could not process the media: {detail}",
                    PLATFORM,
                )
            )
        if status_code != "FINISHED":
            return Outcome.processing()  # IN_PROGRESS; Meta's advice is to poll about once a minute
        held = await hold_for_quota(graph, job, store, self.settings)
        if held is not None:
            return held
        ig_user = job.account.external_account_id
        try:
            published = await irreversible(
                store,
                PUBLISH_SENT,
                lambda: graph.post(
                    f"{ig_user}/media_publish", what="Instagram media_publish", creation_id=container_id
                ),
            )
        except StepFailed as failed:
            deferred = await refused_for_quota(failed, store)
            if deferred is None:
                raise
            return deferred
        await published_one(store)
        media_id = published.get("id")
        if not media_id:
            # Leave the marker: the next call reads the container's status to settle it.
            return Outcome.retryable(
                PlatformError(
                    "GRAPH_UNEXPECTED_ANSWER", "media_publish answered without a media id.", PLATFORM
                )
            )
        await store.record(**{MEDIA_ID: str(media_id)})
        return None

    async def _reconcile(self, graph: GraphClient, job: DeliveryJob, store: DeliveryStore) -> Outcome | None:
        return await reconcile_publish(
            graph,
            job,
            store,
            self.settings,
            marker=PUBLISH_SENT,
            media_key=MEDIA_ID,
            reset={CONTAINER_ID: None, CHILD_IDS: None},
        )

    async def _first_comment(
        self, graph: GraphClient, job: DeliveryJob, store: DeliveryStore, media_id: str
    ) -> None:
        # One attempt only: a comment posted twice is visible, a missing one is not a failed post.
        if not job.first_comment or store.handles.get(COMMENT_SENT):
            return
        try:
            answer = await irreversible(
                store,
                COMMENT_SENT,
                lambda: graph.post(
                    f"{media_id}/comments", what="Instagram first comment", message=job.first_comment or ""
                ),
            )
        except StepFailed as failed:
            code = failed.outcome.error.code if failed.outcome.error else failed.outcome.kind.value
            # Mark it attempted even when refused: the post is settled now and will not be revisited.
            await store.record(**{COMMENT_SENT: True, COMMENT_ERROR: code})
            logger.warning("instagram first comment not posted", extra={"post_id": job.post_id, "code": code})
            return
        await store.record(**{COMMENT_ID: answer.get("id")})


async def _permalink(graph: GraphClient, media_id: str) -> str | None:
    # Cosmetic: any failure (network, Graph's 100/33 on fresh media) leaves externalUrl null.
    try:
        answer = await graph.get(media_id, what="Instagram permalink", fields="permalink")
    except StepFailed:
        return None
    permalink = answer.get("permalink")
    return permalink if isinstance(permalink, str) and permalink else None


async def _find_published_media(graph: GraphClient, job: DeliveryJob) -> str | None:
    # Best effort: newest media first, matched by the exact caption this post was sent with. The
    # container already says PUBLISHED, so no time cutoff is needed to tell it from older posts.
    try:
        media_id, _ = await find_media(graph, job, after=datetime.min.replace(tzinfo=UTC))
    except StepFailed as failed:
        if failed.outcome.kind is OutcomeKind.TERMINAL:
            return None  # the post is live; only its id stays unknown
        raise
    return media_id


def _id(answer: dict[str, Any], what: str) -> str:
    value = answer.get("id")
    if not value:
        raise StepFailed(
            Outcome.retryable(
                PlatformError("GRAPH_UNEXPECTED_ANSWER", f"{what} answered without an id.", PLATFORM)
            )
        )
    return str(value)
