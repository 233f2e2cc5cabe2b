"""Settling an Instagram media_publish whose answer was lost (PLATFORMS.md §6).

The container's `status_code` answers most cases (PUBLISHED: it went through; FINISHED: it did not).
When the container itself cannot be read any more, the account's media list is the record: a media
whose caption is the one sent and whose timestamp is after the intent is the post.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from crier.core.settings import Settings
from crier.platforms.base import DeliveryJob, DeliveryStore, Outcome
from crier.platforms.http import object_member
from crier.platforms.instagram_client import PLATFORM, GraphClient
from crier.platforms.reconcile import Reconciliation
from crier.platforms.steps import StepFailed

PAGE_SIZE = "25"
MAX_PAGES = 4


async def reconcile_publish(
    graph: GraphClient,
    job: DeliveryJob,
    store: DeliveryStore,
    settings: Settings,
    *,
    marker: str,
    media_key: str,
    reset: dict[str, Any],
) -> Outcome | None:
    """An Outcome to return, or None once the journal says what to do next: the found media is
    journaled under `media_key`, or (proven absent) the marker and `reset` handles are cleared."""
    reconciliation = Reconciliation(
        store, settings, platform=PLATFORM, marker=marker, step="Instagram media_publish"
    )
    await reconciliation.begin()
    try:
        media_id, complete = await find_media(graph, job, after=reconciliation.match_after)
    except StepFailed as failed:
        return await reconciliation.refused(failed, "Instagram refused the media list")
    if media_id is not None:
        await reconciliation.found(**{media_key: media_id})
        return None
    return await reconciliation.not_found(complete=complete, **reset)


async def find_media(graph: GraphClient, job: DeliveryJob, *, after: datetime) -> tuple[str | None, bool]:
    """The id of the media posted with this caption after `after`, and whether every media newer than
    `after` was seen (newest first, following `paging.cursors.after`)."""
    params = {"fields": "id,caption,timestamp,permalink,media_type", "limit": PAGE_SIZE}
    for _ in range(MAX_PAGES):
        answer = await graph.get(
            f"{job.account.external_account_id}/media", what="Instagram media list", **params
        )
        items = [item for item in answer.get("data") or [] if isinstance(item, dict)]
        for item in items:
            created = _timestamp(item.get("timestamp"))
            if (
                item.get("caption") == job.caption
                and item.get("id")
                and (created is None or created >= after)
            ):
                return str(item["id"]), True
        oldest = _timestamp(items[-1].get("timestamp")) if items else None
        paging = object_member(answer, "paging")
        cursors = object_member(paging, "cursors")
        next_cursor = cursors.get("after")
        if not items or (oldest is not None and oldest < after) or not (next_cursor and paging.get("next")):
            return None, True
        params = {**params, "after": str(next_cursor)}
    return None, False


def _timestamp(value: Any) -> datetime | None:
    # Graph writes "2026-12-01T14:00:00+0000"; Python < 3.12 wants the colon in the offset.
    if not isinstance(value, str):
        return None
    text = value[:-2] + ":" + value[-2:] if len(value) > 5 and value[-5] in "+-" else value
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
