"""The delivery state machine: how an adapter's outcome moves a post, and how long to wait between steps.

DONE        -> published | draft (stamps, externalId/externalUrl)
PROCESSING  -> stays publishing, next poll after poll_delay() (never sooner than its retry_after);
               past max_processing_seconds since the platform's first `processing` answer (not
               attemptedAt: retries before it, up to a 900 s Retry-After, do not eat the budget)
               -> failed PROCESSING_TIMEOUT, or failed with the outcome's own error when it carries
               one (reconciling: OUTCOME_UNKNOWN), which is also written as lastError while it waits
RETRYABLE   -> stays publishing, retry_count + 1, next try after retry_delay(); the max_attempts-th
               failure -> failed with the last error
TERMINAL    -> failed with the platform's error, no retry
DEFERRED    -> back to scheduled for retry_after seconds (deferredUntil), lastError QUOTA_DEFERRED;
               nothing was sent, so neither the retry budget nor the processing clock is spent
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from crier.core.settings import Settings
from crier.core.vocabulary import PostStatus
from crier.platforms.base import Outcome, OutcomeKind, PlatformError

POLL_MIN_SECONDS = 0.5
POLL_MAX_SECONDS = 15.0
RETRY_BASE_SECONDS = 1.0
RETRY_CAP_SECONDS = 60.0
# A platform's Retry-After is honoured, but an absurd one must not park a post for days.
RETRY_AFTER_MAX_SECONDS = 900.0

PROCESSING_TIMEOUT = "PROCESSING_TIMEOUT"
INTERNAL = "INTERNAL"


def poll_delay(*, elapsed_seconds: float) -> float:
    """Wait as long as the post has already been processing: 0.5 s, 1 s, 2 s, ... up to 15 s.

    Deriving the delay from the elapsed time (instead of a poll counter) makes polls double without
    storing anything, and a post resumed by another worker keeps its pace.
    """
    return min(POLL_MAX_SECONDS, max(POLL_MIN_SECONDS, elapsed_seconds))


def retry_delay(
    *, retries_so_far: int, retry_after: float | None = None, rand: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with full jitter (base 1 s, cap 60 s), never sooner than Retry-After."""
    ceiling: float = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** min(retries_so_far, 16))
    delay = rand() * ceiling
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_MAX_SECONDS))
    return delay


def processing_timeout(*, platform: str, limit_seconds: float) -> PlatformError:
    return PlatformError(
        PROCESSING_TIMEOUT,
        f"The platform never confirmed the post within {limit_seconds:.0f} seconds. "
        "It may or may not have been published: check the account before reposting.",
        platform,
    )


@dataclass(frozen=True)
class Transition:
    status: PostStatus  # published | draft | failed | publishing | scheduled (deferred)
    event: str  # the log line's msg
    delay: float | None = None  # publishing: seconds until the next step
    error: PlatformError | None = None
    add_retries: int = 0
    external_id: str | None = None  # published / draft
    external_url: str | None = None


def next_transition(
    *, outcome: Outcome, platform: str, retries_so_far: int, elapsed_seconds: float, settings: Settings
) -> Transition:
    """Where `outcome` takes a post whose platform has been processing it for `elapsed_seconds`."""
    if outcome.kind is OutcomeKind.DONE:
        status = outcome.status or PostStatus.PUBLISHED
        return Transition(
            status, f"post.{status}", external_id=outcome.external_id, external_url=outcome.external_url
        )
    if outcome.kind is OutcomeKind.TERMINAL:
        return Transition(PostStatus.FAILED, "post.failed", error=outcome.error or _unknown(platform))
    if outcome.kind is OutcomeKind.DEFERRED:
        return Transition(
            PostStatus.SCHEDULED,
            "post.deferred",
            delay=max(0.0, outcome.retry_after or 0.0),
            error=outcome.error or _unknown(platform),
        )
    if outcome.kind is OutcomeKind.PROCESSING:
        if elapsed_seconds > settings.max_processing_seconds:
            error = processing_timeout(platform=platform, limit_seconds=settings.max_processing_seconds)
            if outcome.error is not None:  # still reconciling: the answer stays unknown, say so
                error = PlatformError(
                    outcome.error.code,
                    f"The platform could not tell within "
                    f"{settings.max_processing_seconds:.0f} seconds whether the post exists. "
                    "Check the account before reposting.",
                    outcome.error.platform,
                )
            return Transition(PostStatus.FAILED, "post.failed", error=error)
        delay = max(poll_delay(elapsed_seconds=elapsed_seconds), outcome.retry_after or 0.0)
        event = "post.reconciling" if outcome.error else "post.processing"
        return Transition(PostStatus.PUBLISHING, event, delay=delay, error=outcome.error)
    error = outcome.error or _unknown(platform)
    if retries_so_far + 1 >= settings.max_attempts:
        attempts = retries_so_far + 1
        message = f"{error.message} (gave up after {attempts} attempts)"
        final = PlatformError(error.code, message, error.platform)
        return Transition(PostStatus.FAILED, "post.failed", error=final, add_retries=1)
    delay = retry_delay(retries_so_far=retries_so_far, retry_after=outcome.retry_after)
    return Transition(PostStatus.PUBLISHING, "post.retrying", delay=delay, error=error, add_retries=1)


def _unknown(platform: str) -> PlatformError:
    return PlatformError(INTERNAL, "The adapter gave no reason.", platform)
