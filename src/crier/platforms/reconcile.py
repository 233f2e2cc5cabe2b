"""Reconciliation: finding out what an irreversible call did after its answer was lost (PLATFORMS.md §6).

An adapter that finds its intent marker without the call's handle does not fail the post at once.
It opens a reconciliation round (journaled: `reconcile_started_at`, `reconcile_step`) and asks the
platform's own record on every advance():

    found                   → the adapter records the handle and the post settles as usual
    proven absent           → the platform's record shows nothing, and `reconcile_window_seconds` have
                              passed since the intent: the marker is cleared and the call made once more
    neither, within the bound (`reconcile_max_seconds` since the round began) → PROCESSING with
                              lastError OUTCOME_UNKNOWN on the wire; past it → failed OUTCOME_UNKNOWN

A second proven absence for the same post ends it `failed RECONCILED_ABSENT` (safe to retry) instead
of calling a third time: "once more" is a promise, not a loop.

Times are the worker's UTC clock: adapters have no database, and the bounds are minutes long, so the
few milliseconds hosts disagree by cannot matter. Journal keys written here:
`reconcile_started_at`, `reconcile_step`, `reconcile_result` (found | absent | unknown, the last round's),
`reconcile_rounds` and `reconcile_recalls` (how many calls were made again after proven absence).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from crier.core.settings import Settings
from crier.platforms.base import DeliveryStore, Outcome, OutcomeKind, PlatformError
from crier.platforms.steps import OUTCOME_UNKNOWN, StepFailed, intent_key, outcome_unknown

STARTED_AT = "reconcile_started_at"
STEP = "reconcile_step"
RESULT = "reconcile_result"
ROUNDS = "reconcile_rounds"
RECALLS = "reconcile_recalls"

RECONCILED_ABSENT = "RECONCILED_ABSENT"
# A post the platform dates up to this much before the intent marker still counts as "after" it:
# platform clocks and ours disagree a little, and a generous cutoff can only make absence harder to prove.
CLOCK_SKEW = timedelta(minutes=2)
MAX_RECALLS = 1


def now() -> datetime:
    return datetime.now(UTC)


def intent_time(handles: dict[str, Any], marker: str) -> datetime | None:
    """When the call guarded by `marker` went out, if the journal kept it."""
    return _parse(handles.get(intent_key(marker)))


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Reconciliation:
    """One post's reconciliation of the irreversible call guarded by `marker`."""

    def __init__(
        self, store: DeliveryStore, settings: Settings, *, platform: str, marker: str, step: str
    ) -> None:
        self.store, self.settings = store, settings
        self.platform, self.marker, self.step = platform, marker, step

    @property
    def started_at(self) -> datetime | None:
        return _parse(self.store.handles.get(STARTED_AT))

    @property
    def intent_at(self) -> datetime:
        """When the call went out; a journal from before intent times were kept uses the round's start
        (the call surely went out before reconciliation began)."""
        return intent_time(self.store.handles, self.marker) or self.started_at or now()

    @property
    def match_after(self) -> datetime:
        """A platform record created after this instant may be the post."""
        return self.intent_at - CLOCK_SKEW

    async def begin(self) -> None:
        """Open a round (once): journal when it began and which step it settles."""
        if self.started_at is not None:
            return
        rounds = int(self.store.handles.get(ROUNDS) or 0) + 1
        await self.store.record(
            **{STARTED_AT: now().isoformat(), STEP: self.step, RESULT: None, ROUNDS: rounds}
        )

    def absence_provable(self) -> bool:
        """True once the platform has had the whole window since the intent to show the post."""
        return now() >= self.intent_at + timedelta(seconds=self.settings.reconcile_window_seconds)

    def past_bound(self) -> bool:
        started = self.started_at or now()
        return now() > started + timedelta(seconds=self.settings.reconcile_max_seconds)

    def waiting(self) -> Outcome:
        """Still asking: the post stays `publishing` and lastError says why."""
        started = self.started_at or now()
        message = (
            f"The {self.step} request reached {self.platform} but its answer was lost. Crier is "
            f"asking {self.platform} whether the post exists (reconciling since "
            f"{started.strftime('%Y-%m-%dT%H:%M:%SZ')}); it will not be sent twice."
        )
        return Outcome.processing(PlatformError(OUTCOME_UNKNOWN, message, self.platform))

    async def not_yet(self) -> Outcome:
        """Nothing found and absence not provable yet: wait, or give up past the bound."""
        if self.past_bound():
            return await self.unknown(
                f"{self.platform} did not show the post within "
                f"{self.settings.reconcile_max_seconds:.0f} seconds"
            )
        return self.waiting()

    async def refused(self, failed: StepFailed, refusal: str) -> Outcome:
        """The platform's record could not be read: a hard refusal leaves the outcome unknown (the
        `refusal` sentence says who refused what), anything else is asked again within the bound."""
        if failed.outcome.kind is OutcomeKind.TERMINAL:
            code = failed.outcome.error.code if failed.outcome.error else "refused"
            return await self.unknown(f"{refusal} ({code})")
        return await self.not_yet()

    async def not_found(self, *, complete: bool, **reset: Any) -> Outcome | None:
        """Nothing matched: proven absent (see absent()) once the whole record since the intent was
        read and the window has passed, otherwise not yet."""
        if complete and self.absence_provable():
            return await self.absent(**reset)
        return await self.not_yet()

    async def found(self, **handles: Any) -> None:
        """The platform's record shows the post: journal its handles and close the round."""
        await self.store.record(**handles, **{STARTED_AT: None, RESULT: "found"})

    async def absent(self, **reset: Any) -> Outcome | None:
        """Proven absent: clear the marker (and the `reset` handles) so the call is made once more
        (None), or stop after the second absence with a failure that is safe to retry."""
        recalls = int(self.store.handles.get(RECALLS) or 0)
        if recalls >= MAX_RECALLS:
            # Cleared too: the platform holds no copy, so a partner's retry is safe.
            await self.store.record(**{self.marker: False, STARTED_AT: None, RESULT: "absent"})
            message = (
                f"The {self.step} answer was lost again after Crier had proven the first one "
                f"absent; {self.platform} shows no post either time. Crier stopped rather than "
                f"call a third time: retry the post when the platform is healthy."
            )
            return Outcome.terminal(PlatformError(RECONCILED_ABSENT, message, self.platform))
        await self.store.record(
            **reset, **{self.marker: False, STARTED_AT: None, RESULT: "absent", RECALLS: recalls + 1}
        )
        return None

    async def unknown(self, why: str) -> Outcome:
        """The platform cannot tell (or did not, within the bound): failed OUTCOME_UNKNOWN as before."""
        await self.store.record(**{STARTED_AT: None, RESULT: "unknown"})
        return outcome_unknown(self.platform, self.step, why)
