"""What every adapter shares: early exits, network failures and the intent-marker rule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import httpx

from crier.platforms.base import DeliveryStore, Outcome, OutcomeKind, PlatformError

T = TypeVar("T")

OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"


class StepFailed(Exception):
    """Ends an advance() early with `outcome`.

    `rejected` is True when the platform surely did not act on the call (refused before or instead
    of doing it), so an intent marker set for that call may be cleared.
    """

    def __init__(self, outcome: Outcome, *, rejected: bool = False) -> None:
        super().__init__(outcome.error.code if outcome.error else outcome.kind.value)
        self.outcome = outcome
        self.rejected = rejected


def fail(
    kind: Literal[OutcomeKind.RETRYABLE, OutcomeKind.TERMINAL],
    platform: str,
    code: str,
    message: str,
    *,
    rejected: bool = False,
    retry_after: float | None = None,
) -> StepFailed:
    """A StepFailed carrying a RETRYABLE or TERMINAL outcome."""
    error = PlatformError(code, message, platform)
    outcome = (
        Outcome.terminal(error) if kind is OutcomeKind.TERMINAL else Outcome.retryable(error, retry_after)
    )
    return StepFailed(outcome, rejected=rejected)


def never_sent(exc: httpx.HTTPError) -> bool:
    """True when the request surely never reached the platform (no connection was made)."""
    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


def network_failure(platform: str, exc: httpx.HTTPError, what: str) -> StepFailed:
    """A retryable failure for a transport error; a read timeout leaves the call's outcome unknown."""
    code = "TIMEOUT" if isinstance(exc, httpx.TimeoutException) else "NETWORK_ERROR"
    # Only the exception's type: its text can hold a URL, and Instagram URLs can hold a token.
    return fail(
        OutcomeKind.RETRYABLE,
        platform,
        code,
        f"{what} failed: {type(exc).__name__}",
        rejected=never_sent(exc),
    )


async def send(
    http: httpx.AsyncClient, method: str, url: str, *, platform: str, what: str, **options: Any
) -> httpx.Response:
    """One platform call; a transport error becomes network_failure()'s StepFailed."""
    try:
        return await http.request(method, url, **options)
    except httpx.HTTPError as exc:
        raise network_failure(platform, exc, what) from None


def outcome_unknown(platform: str, what: str, why: str | None = None) -> Outcome:
    """TERMINAL: an irreversible call's answer was lost and the platform could not say what happened."""
    message = (
        f"The {what} request reached {platform} but its answer was lost, so Crier cannot tell "
        f"whether the post exists. Check the account before reposting."
    )
    if why:
        message += f" ({why}.)"
    return Outcome.terminal(PlatformError(OUTCOME_UNKNOWN, message, platform))


def intent_key(marker: str) -> str:
    """The journal key holding when `marker` was set: reconciliation looks for the post after it."""
    return f"{marker}_at"


async def irreversible(store: DeliveryStore, marker: str, call: Callable[[], Awaitable[T]]) -> T:
    """Run an irreversible call with its intent marker journaled first.

    The marker is cleared (recorded False) only when the platform surely did not act, so a later
    advance() that finds the marker without the call's handle knows the outcome is unknown.
    """
    await store.record(**{marker: True, intent_key(marker): datetime.now(UTC).isoformat()})
    try:
        return await call()
    except StepFailed as failed:
        if failed.rejected:
            await store.record(**{marker: False})
        raise
