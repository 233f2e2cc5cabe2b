"""Instagram's publishing quota (PLATFORMS.md §2, §7): asked before media_publish, counted in between.

`content_publishing_limit` answers how many posts the account published in a moving window of
`quota_duration` seconds out of `quota_total`. Crier stores the answer and counts its own
media_publish calls on top, asking again once the answer is old or the count says "full". A full
quota defers the post (nothing is sent) until Crier's oldest publish in the window leaves it.
"""

from __future__ import annotations

from crier.core.settings import Settings
from crier.platforms.base import DeliveryJob, DeliveryStore, Outcome, QuotaState
from crier.platforms.http import array_member, object_member
from crier.platforms.instagram_client import PLATFORM, GraphClient, graph_code
from crier.platforms.limits import (
    INSTAGRAM_FALLBACK_WAIT,
    INSTAGRAM_MEDIA_PUBLISH_CALL,
    INSTAGRAM_PUBLISHING,
    deferral_error,
)
from crier.platforms.steps import StepFailed

DAILY_CAP_CODE = graph_code(9, 2207042)


async def hold_for_quota(
    graph: GraphClient, job: DeliveryJob, store: DeliveryStore, settings: Settings
) -> Outcome | None:
    """DEFERRED when the account's publishing quota is used up; None when media_publish may go."""
    state = await store.ledger.quota(INSTAGRAM_PUBLISHING)
    if state is None or state.age_seconds > settings.instagram_quota_refresh_seconds or _full(state):
        state = await _ask(graph, job, store) or state
    if state is None or not _full(state):
        return None
    return await _defer(store, state)


async def published_one(store: DeliveryStore) -> None:
    """Count a media_publish that went through (the quota's own count between asks)."""
    await store.ledger.count(INSTAGRAM_PUBLISHING)
    await store.ledger.log_sent(INSTAGRAM_MEDIA_PUBLISH_CALL)


async def refused_for_quota(failed: StepFailed, store: DeliveryStore) -> Outcome | None:
    """media_publish refused with 9/2207042: the quota is full after all; defer instead of failing."""
    if not failed.outcome.error or failed.outcome.error.code != DAILY_CAP_CODE:
        return None
    state = await store.ledger.quota(INSTAGRAM_PUBLISHING)
    if state is not None and state.limit is not None:
        await store.ledger.save_quota(
            INSTAGRAM_PUBLISHING,
            limit=state.limit,
            used=state.limit,
            window_seconds=state.window_seconds,
            source="platform",
        )
    window = state.window_seconds if state else 86400.0
    return await _defer(
        store, QuotaState(limit=0, used=0, window_seconds=window, source="platform", age_seconds=0.0)
    )


def _full(state: QuotaState) -> bool:
    return state.limit is not None and state.used >= state.limit


async def _ask(graph: GraphClient, job: DeliveryJob, store: DeliveryStore) -> QuotaState | None:
    # A failed read never holds a post back: media_publish itself enforces the quota (9/2207042).
    try:
        answer = await graph.get(
            f"{job.account.external_account_id}/content_publishing_limit",
            what="Instagram content_publishing_limit",
            fields="quota_usage,config",
        )
    except StepFailed:
        return None
    entries = array_member(answer, "data")
    entry = entries[0] if entries and isinstance(entries[0], dict) else {}
    config = object_member(entry, "config")
    try:
        used, total = int(entry["quota_usage"]), int(config["quota_total"])
        window = float(config.get("quota_duration") or 86400)
    except (KeyError, TypeError, ValueError):
        return None
    await store.ledger.save_quota(
        INSTAGRAM_PUBLISHING, limit=total, used=used, window_seconds=window, source="platform"
    )
    return QuotaState(limit=total, used=used, window_seconds=window, source="platform", age_seconds=0.0)


async def _defer(store: DeliveryStore, state: QuotaState) -> Outcome:
    sent, frees = await store.ledger.sent(INSTAGRAM_MEDIA_PUBLISH_CALL, window_seconds=state.window_seconds)
    wait = frees if sent and frees else INSTAGRAM_FALLBACK_WAIT
    return Outcome.deferred(deferral_error(PLATFORM, "content_publishing_limit", wait), wait)
