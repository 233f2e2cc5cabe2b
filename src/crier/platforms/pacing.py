"""How adapters keep to the platforms' limits: take a paced slot before a call, defer past a known cap.

A short wait is slept in place; a long one becomes a DEFERRED outcome (nothing sent) or, for a poll
of a post already accepted, a later poll. Caps TikTok does not publish are learned from its refusals
and kept until they reset.
"""

from __future__ import annotations

import asyncio

from crier.core.settings import Settings
from crier.platforms.base import DeliveryStore
from crier.platforms.limits import DAY_SECONDS, CallRate


async def take_slot(store: DeliveryStore, settings: Settings, rate: CallRate) -> float | None:
    """None once the call may go (a short wait already slept); else the seconds the post must wait."""
    wait, inline = await _pace(store, settings, rate, take=True)
    if wait > inline:
        return wait
    if wait > 0:
        await asyncio.sleep(wait)
    return None


async def slot_soon(store: DeliveryStore, settings: Settings, rate: CallRate) -> float | None:
    """None when a slot is due soon (left untaken: the caller takes it right before its call, so no
    other call's latency sits between the slot and the call); else the seconds the post should wait,
    a little less than the reserved slot is away, so it is back in time to make its first call."""
    wait, inline = await _pace(store, settings, rate, take=False)
    return None if wait <= inline else wait - inline / 2


async def _pace(
    store: DeliveryStore, settings: Settings, rate: CallRate, *, take: bool
) -> tuple[float, float]:
    """The ledger's wait for a slot of `rate`, and the longest wait slept in place."""
    inline = settings.pacing_inline_wait_seconds
    wait = await store.ledger.pace(
        rate.call,
        limit=rate.per_window,
        window_seconds=settings.tiktok_rate_window_seconds + settings.pacing_margin_seconds,
        may_wait_seconds=inline,
        take=take,
        # Half the margin: the other half absorbs the delay between the slot and the request's arrival.
        late_seconds=settings.pacing_margin_seconds / 2,
    )
    return wait, inline


async def cap_wait(store: DeliveryStore, name: str) -> float | None:
    """Seconds until the cap `name` lets one more post out, None when it does now (or is unknown).

    `name` is both the stored limit and the log of what Crier sent against it.
    """
    state = await store.ledger.quota(name)
    if state is None or state.limit is None:
        return None
    if state.resets_in_seconds is not None and state.resets_in_seconds <= 0:
        return None  # a learned cap lapses when its window ends: the platform will say if it still holds
    sent, frees = await store.ledger.sent(name, window_seconds=state.window_seconds)
    if sent < state.limit:
        return None
    return max(1.0, min(filter(None, (frees, state.resets_in_seconds)), default=state.window_seconds))


async def learn_cap(store: DeliveryStore, name: str) -> float:
    """The platform refused for a cap it does not publish: what Crier sent in the last day is the cap.
    Returns the seconds until it frees."""
    sent, frees = await store.ledger.sent(name, window_seconds=DAY_SECONDS)
    resets_in = frees if frees is not None else DAY_SECONDS
    await store.ledger.save_quota(
        name, limit=sent, used=sent, window_seconds=DAY_SECONDS, source="learned", resets_in_seconds=resets_in
    )
    return resets_in
