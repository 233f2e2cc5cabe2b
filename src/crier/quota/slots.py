"""Where the paced calls of a batch go: the slot arithmetic of the ledger, without I/O.

The ledger reads each (account, call) log it needs once, under its lock, hands it here with the
batch's requests in arrival order, and writes back what the plan says. Every request is decided as
if it had taken the lock alone, one after the other: the earlier ones' new slots count for the later
ones. Offsets are seconds from the moment the logs were read (negative: in the past).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PaceRequest:
    """One pace() (or, with `log_only`, one log_sent()) of one post on one account's call kind."""

    account_id: str
    call: str
    post_id: str | None
    limit: int = 0
    window_seconds: float = 0.0
    may_wait_seconds: float = 0.0
    take: bool = True
    late_seconds: float = 0.0
    log_only: bool = False  # a call made now: logged without any pacing

    @property
    def log_key(self) -> tuple[str, str]:
        return self.account_id, self.call


@dataclass
class CallLog:
    """One (account, call) log as read: recent slot offsets, and slots reserved for the batch's posts."""

    offsets: dict[int, float] = field(default_factory=dict)  # slot id -> offset, the latest ones read
    reserved: dict[str, tuple[int, float]] = field(default_factory=dict)  # post -> (slot id, offset)


@dataclass
class SlotPlan:
    """What the batch writes back, and each request's wait (in request order)."""

    waits: list[float] = field(default_factory=list)
    new_slots: list[tuple[str, str, float, str | None]] = field(
        default_factory=list
    )  # account, call, offset, post
    consumed: list[int] = field(default_factory=list)  # reserved slots taken now: no longer the post's
    dropped: list[int] = field(default_factory=list)  # reservations come back to too late


def plan_slots(requests: list[PaceRequest], logs: dict[tuple[str, str], CallLog]) -> SlotPlan:
    """Decide every request in order, as PostgresLedger.pace documents one."""
    plan = SlotPlan()
    for request in requests:
        log = logs.setdefault(request.log_key, CallLog())
        plan.waits.append(_decide(request, log, plan))
    return plan


def _decide(request: PaceRequest, log: CallLog, plan: SlotPlan) -> float:
    if request.log_only:
        _add(log, plan, request, offset=0.0, post_id=None)
        return 0.0
    if request.post_id is not None and (reserved := log.reserved.get(request.post_id)) is not None:
        slot_id, wait = reserved
        if wait < -request.late_seconds:  # the calls placed after it assumed it went out on time
            del log.reserved[request.post_id]
            plan.dropped.append(slot_id)
            log.offsets.pop(slot_id, None)
        else:
            if request.take and wait <= request.may_wait_seconds:
                del log.reserved[request.post_id]
                plan.consumed.append(slot_id)
            return max(0.0, wait)
    wait = next_slot_wait(log.offsets.values(), limit=request.limit, window_seconds=request.window_seconds)
    if wait > request.may_wait_seconds and request.post_id is not None:
        # Reserved for the post; it comes back for it in a later batch (never this one: a post's
        # requests follow one another).
        _add(log, plan, request, offset=wait, post_id=request.post_id)
    elif request.take:
        _add(log, plan, request, offset=wait, post_id=None)
    return wait


def next_slot_wait(offsets: Iterable[float], *, limit: int, window_seconds: float) -> float:
    """Seconds from now until a new call keeps every window of `window_seconds` at ≤ `limit` calls.

    With fewer than `limit` calls (made or reserved) in the last window, now is safe. Otherwise the
    new slot goes after the last one and after the limit-th most recent one has left the window.
    """
    recent = sorted((offset for offset in offsets if offset > -window_seconds), reverse=True)[:limit]
    if len(recent) < limit:
        return 0.0
    return max(0.0, recent[0], recent[-1] + window_seconds)


def _add(log: CallLog, plan: SlotPlan, request: PaceRequest, *, offset: float, post_id: str | None) -> None:
    log.offsets[-1 - len(plan.new_slots)] = offset  # not written yet: a key no stored slot has
    plan.new_slots.append((request.account_id, request.call, offset, post_id))
