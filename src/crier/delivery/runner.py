"""One claimed post: build its job, advance its adapter, and write where each outcome takes it.

Transactions are short and separate (load, journal writes, the step's end): none is open while an
adapter talks to a platform. Every write is fenced on the claim's attempt; a lost claim ends the run
silently (another worker owns the post now).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from crier.core.context import request_id_var
from crier.core.settings import Settings
from crier.delivery import attempts, repository
from crier.delivery.jobs import build_job
from crier.delivery.journal import LeaseLost, PostJournal
from crier.delivery.policy import INTERNAL, Transition, next_transition, processing_timeout
from crier.delivery.repository import ClaimedPost
from crier.observability import metrics
from crier.platforms.base import CREDENTIAL_INVALID, DeliveryJob, Outcome, PlatformAdapter, PlatformError
from crier.quota import repository as quota_repository

log = logging.getLogger(__name__)

AdapterFor = Callable[..., PlatformAdapter]  # adapter_for(job, *, http, settings)

# A next step due sooner than this is done in place (holding the lease) rather than released to the
# sweep, so a sandbox post lands in a second or two; the budget keeps one post from hogging a slot.
INLINE_MAX_DELAY_SECONDS = 1.0
INLINE_BUDGET_SECONDS = 10.0
# Each HTTP call has its own timeout; a whole step (a token refresh, a query, an init) gets this many
# of them before it counts as hung (an adapter bug) and is retried.
STEP_TIMEOUT_CALLS = 4


def registry_adapter_for(job: DeliveryJob, *, http: httpx.AsyncClient, settings: Settings) -> PlatformAdapter:
    """The real adapters (imported late: delivery must not import every platform at startup)."""
    from crier.platforms.registry import adapter_for

    return adapter_for(job, http=http, settings=settings)


async def run_claimed_post(*, claim: ClaimedPost, http: httpx.AsyncClient, settings: Settings,
                           adapter_for: AdapterFor | None = None,
                           stopping: asyncio.Event | None = None) -> str:
    """Deliver one claimed post as far as it can go now; returns its status, or "lost"."""
    request_id_var.set(claim.request_id)  # adapter logs join up with the API call that created the post
    if claim.rescued:
        _log(claim, "post.rescued", "publishing", level=logging.WARNING)
    elif claim.previous_status == "scheduled":
        _log(claim, "post.publishing", "publishing")
    else:  # the next poll or retry of a post already publishing: no state change
        _log(claim, "post.resumed", "publishing", level=logging.DEBUG)
    step = _Step(claim=claim, settings=settings)
    try:
        return await step.run(http=http, adapter_for=adapter_for or registry_adapter_for,
                              stopping=stopping or asyncio.Event())
    except LeaseLost:
        _log(claim, "post.lease_lost", "publishing", level=logging.WARNING)
        return "lost"


class _Step:
    """The state of one run: how long the post has been in delivery and how many retries it used."""

    def __init__(self, *, claim: ClaimedPost, settings: Settings) -> None:
        self.claim, self.settings = claim, settings
        self.started = time.monotonic()
        self.retries = claim.retry_count

    def elapsed(self) -> float:
        """Seconds since attemptedAt, on PostgreSQL's clock."""
        return (self.claim.claimed_at - self.claim.attempted_at).total_seconds() + self.in_slot()

    def in_slot(self) -> float:
        return time.monotonic() - self.started

    def transition(self, outcome: Outcome) -> Transition:
        transition = next_transition(outcome=outcome, platform=self.claim.platform,
                                     retries_so_far=self.retries, elapsed_seconds=self.elapsed(),
                                     settings=self.settings)
        self.retries += transition.add_retries
        return transition

    def continue_in_place(self, transition: Transition, *, stopping: asyncio.Event) -> bool:
        """True when the next step is due so soon that this worker should do it itself."""
        delay = transition.delay
        return (transition.status == "publishing" and delay is not None and not stopping.is_set()
                and delay < INLINE_MAX_DELAY_SECONDS and self.in_slot() + delay < INLINE_BUDGET_SECONDS)

    async def run(self, *, http: httpx.AsyncClient, adapter_for: AdapterFor, stopping: asyncio.Event) -> str:
        claim, settings = self.claim, self.settings
        try:
            prepared = await _prepare(claim=claim)
            if isinstance(prepared, Outcome):
                return await _apply(claim, self.transition(prepared), hold_lease=False)
            job, handles = prepared
            adapter = adapter_for(job, http=http, settings=settings)
        except LeaseLost:
            raise
        except Exception as exc:  # a bug or bad data: bounded retries, like any transient failure
            outcome = _internal(claim, exc, "preparing the delivery")
            return await _apply(claim, self.transition(outcome), hold_lease=False)

        if claim.rescued and self.elapsed() > settings.max_processing_seconds:
            # A post whose worker keeps dying must still end: the same bound as a silent platform.
            error = processing_timeout(platform=claim.platform, limit_seconds=settings.max_processing_seconds)
            return await _apply(claim, Transition("failed", "post.failed", error=error), hold_lease=False)
        journal = PostJournal(post_id=claim.id, attempt=claim.attempt, handles=handles, account=job.account)
        while True:
            outcome = await _advance(claim=claim, adapter=adapter, job=job, journal=journal,
                                     settings=settings)
            transition = self.transition(outcome)
            inline = self.continue_in_place(transition, stopping=stopping)
            status = await _apply(claim, transition, hold_lease=inline, lease_seconds=settings.lease_seconds)
            if not inline:
                return status
            try:
                await asyncio.wait_for(stopping.wait(), timeout=transition.delay)
            except TimeoutError:
                continue
            # Shutting down: hand the post back to the sweep, due right away for whichever worker is left.
            await _fenced(repository.schedule_next_step, post_id=claim.id, attempt=claim.attempt, due_in=0,
                          hold_lease=False)
            return "publishing"


async def _prepare(*, claim: ClaimedPost) -> tuple[DeliveryJob, dict[str, Any]] | Outcome:
    """Load the rows and build the job, or the outcome that ends the post before any platform call."""
    async with repository.transaction() as session:
        rows = await repository.load_delivery_rows(session, post_id=claim.id)
    if rows is None or rows.post.attempt != claim.attempt or rows.post.status != "publishing":
        raise LeaseLost(claim.id)
    metrics.record_start(claim, rows.post.scheduled_for)
    if rows.account.status == "reauth_required":
        # The token died for good: never try the platform with it again (ACCOUNTS.md).
        return Outcome.terminal(PlatformError(
            CREDENTIAL_INVALID,
            f"The {claim.platform} account @{rows.account.handle} must be reconnected "
            f"({rows.account.disconnected_reason or 'its token was refused'}). Reconnect it and publish again.",
            claim.platform,
        ))
    if rows.account.status == "revoked" and claim.previous_status == "scheduled":
        # A post already publishing when the account was revoked finishes; a fresh one never starts.
        return Outcome.terminal(PlatformError(
            "ACCOUNT_DISCONNECTED",
            f"The {claim.platform} account @{rows.account.handle} was revoked "
            f"({rows.account.disconnected_reason or 'revoked'}). Connect it again and publish again.",
            claim.platform,
        ))
    job = build_job(rows=rows, attempt=claim.attempt)
    if job.mode == "managed" and job.managed_provider is None:
        return Outcome.terminal(PlatformError(
            "MANAGED_PROVIDER_MISSING",
            "The account's layer has no managed-distribution provider configured.", claim.platform))
    if rows.post.caption_sent != job.caption:
        await _fenced(repository.set_caption_sent, post_id=claim.id, attempt=claim.attempt,
                      caption=job.caption)
    return job, dict(rows.post.journal or {})


async def _advance(*, claim: ClaimedPost, adapter: PlatformAdapter, job: DeliveryJob, journal: PostJournal,
                   settings: Settings) -> Outcome:
    """One adapter step, bounded in time, with the lease renewed while it runs."""
    done = asyncio.Event()
    keeper = asyncio.create_task(_keep_lease(claim=claim, settings=settings, done=done))
    try:
        return await asyncio.wait_for(adapter.advance(job, journal),
                                      timeout=settings.platform_timeout_seconds * STEP_TIMEOUT_CALLS)
    except LeaseLost:
        raise
    except TimeoutError:
        error = PlatformError("TIMEOUT", f"The {claim.platform} step did not finish in time.", claim.platform)
        return Outcome.retryable(error)
    except Exception as exc:
        return _internal(claim, exc, "an adapter step")
    finally:
        # Let an in-flight renewal finish before the step's final write, so it cannot undo a release.
        done.set()
        await keeper


async def _keep_lease(*, claim: ClaimedPost, settings: Settings, done: asyncio.Event) -> None:
    interval = max(1.0, settings.lease_seconds / 3)
    while True:
        try:
            await asyncio.wait_for(done.wait(), timeout=interval)
            return
        except TimeoutError:
            pass
        try:
            async with repository.transaction() as session:
                kept = await repository.renew_lease(session, post_id=claim.id, attempt=claim.attempt,
                                                    lease_seconds=settings.lease_seconds)
        except Exception as exc:  # PostgreSQL hiccup: try again next interval while the lease still runs
            log.warning("lease renewal failed", extra={"postId": claim.id, "error": type(exc).__name__})
            continue
        if not kept:  # the step's next journal write or final write will notice and stop
            return


async def _apply(claim: ClaimedPost, transition: Transition, *, hold_lease: bool,
                 lease_seconds: float = 0) -> str:
    """Write the transition (fenced) and log it."""
    error = transition.error.as_dict() if transition.error else None
    fence = {"post_id": claim.id, "attempt": claim.attempt}
    if transition.status in ("published", "draft"):
        await _fenced(repository.mark_delivered, **fence, status=transition.status,
                      external_id=transition.external_id, external_url=transition.external_url)
    elif transition.status == "failed":
        await _fenced(repository.mark_failed, **fence, error=error, add_retries=transition.add_retries)
    elif transition.status == "scheduled":  # deferred by a platform limit (quota.repository)
        await _fenced(quota_repository.defer_post, **fence, due_in=transition.delay or 0.0, error=error)
    else:
        # Holding the lease: the row stays due at the lease end, so a crash mid-wait is rescued too.
        due_in = lease_seconds if hold_lease else transition.delay
        await _fenced(repository.schedule_next_step, **fence, due_in=due_in, hold_lease=hold_lease,
                      add_retries=transition.add_retries, error=error)
    await attempts.record_step(post_id=claim.id, started_at=claim.claimed_at, transition=transition)
    details: dict[str, Any] = {}
    if error:
        details["error"] = error
    if transition.external_url:
        details["externalUrl"] = transition.external_url
    if transition.delay is not None:
        details["nextStepInSeconds"] = round(transition.delay, 3)
    metrics.record_transition(claim, transition)
    level = _LEVELS.get(transition.event, logging.INFO)
    _log(claim, transition.event, transition.status, level=level, **details)
    return transition.status


_LEVELS = {"post.failed": logging.WARNING, "post.retrying": logging.WARNING,
           "post.processing": logging.DEBUG}  # a poll is not news; the state changes are


async def _fenced(write: Callable[..., Any], **params: Any) -> None:
    """Run one fenced write in its own committed transaction; a lost claim raises LeaseLost."""
    async with repository.transaction() as session:
        kept = await write(session, **params)
    if not kept:
        raise LeaseLost(params["post_id"])


def _internal(claim: ClaimedPost, exc: Exception, during: str) -> Outcome:
    """An unexpected exception (a bug): logged with its traceback, retried within max_attempts."""
    log.exception("delivery.internal_error", extra={"postId": claim.id, "during": during})
    # The exception's type only: its text may hold a URL or a payload.
    message = f"Crier hit an internal error during {during} ({type(exc).__name__})."
    return Outcome.retryable(PlatformError(INTERNAL, message, claim.platform))


def _log(claim: ClaimedPost, event: str, status: str, *, level: int = logging.INFO, **details: Any) -> None:
    log.log(level, event, extra={
        "postId": claim.id, "request_id": claim.request_id, "platform": claim.platform, "mode": claim.mode,
        "attempt": claim.attempt, "status": status, **details,
    })
