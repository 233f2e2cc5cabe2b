"""One claimed post: build its job, advance its adapter, and write where each outcome takes it.

Every write is one autocommitted statement (journal writes, the step's end), so no transaction is
ever open while an adapter talks to a platform. Every write is fenced on the claim's fence; a lost
claim ends the run silently (another worker owns the post now). A run costs no slot while it waits
(a poll delay, a short backoff, its instant): it is a sleeping task, and what bounds the work is the
database connections (repository.run_statements) and the connections per platform host.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from crier.core.clock import utcnow
from crier.core.context import request_id_var
from crier.core.settings import Settings
from crier.core.vocabulary import Mode, PostStatus
from crier.delivery import attempts, repository
from crier.delivery.job_builder import build_job
from crier.delivery.policy import INTERNAL, Transition, next_transition, processing_timeout
from crier.delivery.repository import ClaimedPost, DeliveryRows
from crier.delivery.store import LeaseLost, PostDeliveryStore
from crier.delivery.writes import delivery_writes
from crier.observability import metrics
from crier.platforms.base import (
    CREDENTIAL_INVALID,
    DeliveryJob,
    Outcome,
    OutcomeKind,
    PlatformAdapter,
    PlatformError,
)
from crier.quota import repository as quota_repository

log = logging.getLogger(__name__)

AdapterFor = Callable[..., PlatformAdapter]  # adapter_for(job, *, http, settings)

# A next step due sooner than this is done in place (holding the lease) rather than released to the
# sweep, so a sandbox post lands in a second or two. Waiting costs no slot (a sleeping task), but a
# post that keeps waiting is handed back after the budget, for any worker to take up.
INLINE_MAX_DELAY_SECONDS = 2.0
INLINE_BUDGET_SECONDS = 30.0
# Each HTTP call has its own timeout; a whole step (a token refresh, a query, an init) gets this many
# of them before it counts as hung (an adapter bug) and is retried.
STEP_TIMEOUT_CALLS = 4


def registry_adapter_for(job: DeliveryJob, *, http: httpx.AsyncClient, settings: Settings) -> PlatformAdapter:
    """The real adapters (imported late: delivery must not import every platform at startup)."""
    from crier.platforms.registry import adapter_for

    return adapter_for(job, http=http, settings=settings)


class LeaseKeeper:
    """Renews the lease of every post a worker holds, all in one statement every lease/3 seconds.

    A post is held from its claim until its step's last write; a post no longer renewed (another
    worker took it, it ended) is dropped, and its step's next fenced write notices the loss.
    """

    def __init__(self, *, lease_seconds: float) -> None:
        self.lease_seconds = lease_seconds
        self.held: dict[str, int] = {}  # post id -> fence

    @property
    def interval(self) -> float:
        return max(1.0, self.lease_seconds / 3)

    def hold(self, claim: ClaimedPost) -> None:
        self.held[claim.id] = claim.fence

    def release(self, claim: ClaimedPost) -> None:
        if self.held.get(claim.id) == claim.fence:
            del self.held[claim.id]

    async def renew(self) -> None:
        held = dict(self.held)
        if not held:
            return
        kept = await repository.run_statements(
            lambda db: repository.renew_leases(db, held=held, lease_seconds=self.lease_seconds)
        )
        for post_id in held.keys() - kept:
            if self.held.get(post_id) == held[post_id]:
                del self.held[post_id]

    async def keep(self, stopped: asyncio.Event) -> None:
        """Renew every interval until `stopped` (a PostgreSQL hiccup: try again next interval)."""
        while not stopped.is_set():
            try:
                await asyncio.wait_for(stopped.wait(), timeout=self.interval)
                return
            except TimeoutError:
                pass
            try:
                await self.renew()
            except Exception as exc:  # the leases still run; the next interval tries again
                log.warning(
                    "lease renewal failed", extra={"count": len(self.held), "error": type(exc).__name__}
                )


async def run_claimed_post(
    *,
    claim: ClaimedPost,
    http: httpx.AsyncClient,
    settings: Settings,
    adapter_for: AdapterFor | None = None,
    stopping: asyncio.Event | None = None,
    rows: DeliveryRows | None = None,
    leases: LeaseKeeper | None = None,
) -> str:
    """Deliver one claimed post as far as it can go now; returns its status, or "lost".

    `rows` are the post's rows when the claim loaded them already; `leases` is the worker's keeper
    (without one, this run renews its own lease).
    """
    step = _Step(claim=claim, settings=settings)
    stopping = stopping or asyncio.Event()
    own_keeper = None
    if leases is None:
        leases, done = LeaseKeeper(lease_seconds=settings.lease_seconds), asyncio.Event()
        own_keeper = (asyncio.create_task(leases.keep(done)), done)
    leases.hold(claim)
    request_id_var.set(claim.request_id)  # adapter logs join up with the API call that created the post
    try:
        if not await step.wait_for_start(stopping):
            # Stopping before the post's instant: nothing was sent; it is due again at that instant,
            # for whichever worker is left.
            leases.release(claim)
            due_at = claim.starts_at
            assert due_at is not None  # only a post whose instant is ahead waits for it
            await repository.run_statements(
                lambda db: repository.hand_back(db, post_id=claim.id, fence=claim.fence, due_at=due_at)
            )
            return PostStatus.SCHEDULED if claim.claimed_ahead else PostStatus.PUBLISHING
        if claim.claimed_ahead:
            attempted_at = await delivery_writes().start(post_id=claim.id, fence=claim.fence)
            if attempted_at is None:  # canceled meanwhile, or taken over
                raise LeaseLost(claim.id)
            claim = step.claim = dataclasses.replace(claim, attempted_at=attempted_at)
            if rows is not None:
                rows.post.status = PostStatus.PUBLISHING
        if claim.rescued:
            _log(claim, "post.rescued", PostStatus.PUBLISHING, level=logging.WARNING)
        elif claim.previous_status == PostStatus.SCHEDULED:
            _log(claim, "post.publishing", PostStatus.PUBLISHING)
        else:  # the next poll or retry of a post already publishing: no state change
            _log(claim, "post.resumed", PostStatus.PUBLISHING, level=logging.DEBUG)
        return await step.run(
            http=http,
            adapter_for=adapter_for or registry_adapter_for,
            stopping=stopping,
            rows=rows,
            leases=leases,
        )
    except LeaseLost:
        _log(claim, "post.lease_lost", PostStatus.PUBLISHING, level=logging.WARNING)
        return "lost"
    finally:
        leases.release(claim)
        if own_keeper is not None:
            task, done = own_keeper
            done.set()
            await task


class _Step:
    """The state of one run: how long the post has been in delivery and processing, its retries."""

    def __init__(self, *, claim: ClaimedPost, settings: Settings) -> None:
        self.claim, self.settings = claim, settings
        self.started = time.monotonic()  # ~ claim.claimed_at: runs start right after their claim
        self.retries = claim.retry_count
        self.steps_recorded = 0  # steps written to the attempt history (crier.delivery.attempts)
        # The post's journal as committed (the attempt history names its step from it); None: unknown.
        self.handles: dict[str, Any] | None = None
        # When the platform began processing, on this process's clock (None: not yet).
        self.processing_began: float | None = None
        if claim.processing_started_at is not None:
            self.processing_began = (
                self.started - (claim.claimed_at - claim.processing_started_at).total_seconds()
            )

    def seconds_to_start(self) -> float:
        if self.claim.starts_at is None:
            return 0.0
        ahead = (self.claim.starts_at - self.claim.claimed_at).total_seconds()
        return max(0.0, ahead - self.in_slot())

    async def wait_for_start(self, stopping: asyncio.Event) -> bool:
        """Sleep until the post's instant (claims reach ahead); False when the worker stops first."""
        delay = self.seconds_to_start()
        if delay <= 0:
            return True
        try:
            await asyncio.wait_for(stopping.wait(), timeout=delay)
        except TimeoutError:
            return True
        return False

    def elapsed(self) -> float:
        """Seconds since attemptedAt, on PostgreSQL's clock."""
        assert self.claim.attempted_at is not None  # run() asks only once the post has started
        return (self.claim.claimed_at - self.claim.attempted_at).total_seconds() + self.in_slot()

    def processing_for(self) -> float | None:
        """Seconds since the platform first answered `processing` (None: it has not yet)."""
        return None if self.processing_began is None else time.monotonic() - self.processing_began

    def in_slot(self) -> float:
        return time.monotonic() - self.started

    def transition(self, outcome: Outcome) -> Transition:
        if outcome.kind is OutcomeKind.PROCESSING and self.processing_began is None:
            self.processing_began = time.monotonic()  # the processing budget starts now, not at attemptedAt
        transition = next_transition(
            outcome=outcome,
            platform=self.claim.platform,
            retries_so_far=self.retries,
            elapsed_seconds=self.processing_for() or 0.0,
            settings=self.settings,
        )
        self.retries += transition.add_retries
        return transition

    def continue_in_place(self, transition: Transition, *, stopping: asyncio.Event) -> bool:
        """True when the next step is due so soon that this worker should do it itself."""
        delay = transition.delay
        return (
            transition.status == PostStatus.PUBLISHING
            and delay is not None
            and not stopping.is_set()
            and delay < INLINE_MAX_DELAY_SECONDS
            and self.in_slot() + delay < INLINE_BUDGET_SECONDS
        )

    async def run(
        self,
        *,
        http: httpx.AsyncClient,
        adapter_for: AdapterFor,
        stopping: asyncio.Event,
        rows: DeliveryRows | None,
        leases: LeaseKeeper,
    ) -> str:
        claim, settings = self.claim, self.settings
        if rows is not None:
            self.handles = dict(rows.post.journal or {})
        try:
            prepared = await _prepare(claim=claim, rows=rows)
            if isinstance(prepared, Outcome):
                return await self.apply(self.transition(prepared), hold_lease=False, leases=leases)
            job, handles = prepared
            adapter = adapter_for(job, http=http, settings=settings)
        except LeaseLost:
            raise
        except Exception as exc:  # a bug or bad data: bounded retries, like any transient failure
            outcome = _internal(claim, exc, "preparing the delivery")
            return await self.apply(self.transition(outcome), hold_lease=False, leases=leases)

        if claim.rescued and self.elapsed() > settings.max_processing_seconds:
            # A post whose worker keeps dying must still end: the same bound as a silent platform.
            error = processing_timeout(platform=claim.platform, limit_seconds=settings.max_processing_seconds)
            return await self.apply(
                Transition(PostStatus.FAILED, "post.failed", error=error), hold_lease=False, leases=leases
            )
        store = PostDeliveryStore(post_id=claim.id, fence=claim.fence, handles=handles, account=job.account)
        self.handles = store.handles  # kept up to date: a handle joins it once its write committed
        while True:
            outcome = await _advance(claim=claim, adapter=adapter, job=job, store=store, settings=settings)
            transition = self.transition(outcome)
            inline = self.continue_in_place(transition, stopping=stopping)
            status = await self.apply(transition, hold_lease=inline, leases=leases)
            if not inline:
                return status
            try:
                await asyncio.wait_for(stopping.wait(), timeout=transition.delay)
            except TimeoutError:
                continue
            # Shutting down: hand the post back to the sweep, due right away for whichever worker is left.
            leases.release(claim)
            await _fenced(
                repository.schedule_next_step,
                post_id=claim.id,
                fence=claim.fence,
                due_in=0,
                hold_lease=False,
                processing_for=self.processing_for(),
            )
            return PostStatus.PUBLISHING

    async def apply(self, transition: Transition, *, hold_lease: bool, leases: LeaseKeeper) -> str:
        """Write the transition (fenced) and log it.

        Waiting in place with nothing new to record writes nothing: the row already says "due at the
        lease end" and the keeper renews it, so a crash mid-wait is rescued all the same.
        """
        claim = self.claim
        error = transition.error.as_dict() if transition.error else None
        fence: dict[str, Any] = {"post_id": claim.id, "fence": claim.fence}
        if transition.status in (PostStatus.PUBLISHED, PostStatus.DRAFT):
            leases.release(claim)
            kept = await delivery_writes().mark_delivered(
                **fence,
                status=transition.status,
                external_id=transition.external_id,
                external_url=transition.external_url,
            )
            if not kept:
                raise LeaseLost(claim.id)
        elif transition.status == PostStatus.FAILED:
            leases.release(claim)
            await _fenced(repository.mark_failed, **fence, error=error, add_retries=transition.add_retries)
        elif transition.status == PostStatus.SCHEDULED:  # deferred by a platform limit (quota.repository)
            leases.release(claim)
            await _fenced(quota_repository.defer_post, **fence, due_in=transition.delay or 0.0, error=error)
        elif hold_lease:
            if transition.add_retries or error:
                await _fenced(
                    repository.schedule_next_step,
                    **fence,
                    due_in=self.settings.lease_seconds,
                    hold_lease=True,
                    add_retries=transition.add_retries,
                    error=error,
                    processing_for=self.processing_for(),
                )
        else:
            leases.release(claim)
            await _fenced(
                repository.schedule_next_step,
                **fence,
                due_in=transition.delay,
                hold_lease=False,
                add_retries=transition.add_retries,
                error=error,
                processing_for=self.processing_for(),
            )
        # The attempt's history: opened by this run's first step, closed by the step that settles or
        # releases it; the polls in between add nothing worth a write.
        if self.steps_recorded == 0 or attempts.attempt_outcome(transition) != "in_progress":
            await attempts.record_step(
                post_id=claim.id, started_at=claim.claimed_at, transition=transition, handles=self.handles
            )
        self.steps_recorded += 1
        metrics.record_transition(claim, transition)
        level = _LEVELS.get(transition.event, logging.INFO)
        if log.isEnabledFor(level):
            details: dict[str, Any] = {}
            if error:
                details["error"] = error
            if transition.external_url:
                details["externalUrl"] = transition.external_url
            if transition.delay is not None:
                details["nextStepInSeconds"] = round(transition.delay, 3)
            _log(claim, transition.event, transition.status, level=level, **details)
        return transition.status


async def _prepare(
    *, claim: ClaimedPost, rows: DeliveryRows | None
) -> tuple[DeliveryJob, dict[str, Any]] | Outcome:
    """Build the job from the claim's rows (loaded now unless the claim loaded them), or the outcome
    that ends the post before any platform call."""
    if rows is None:
        rows = await repository.run_statements(lambda db: repository.load_delivery_rows(db, post_id=claim.id))
    if rows is None or rows.post.fence != claim.fence or rows.post.status != PostStatus.PUBLISHING:
        raise LeaseLost(claim.id)
    metrics.record_start(claim, rows.post.scheduled_for, started_at=utcnow())
    if rows.account.status == "reauth_required":
        # The token died for good: never try the platform with it again (ACCOUNTS.md).
        return Outcome.terminal(
            PlatformError(
                CREDENTIAL_INVALID,
                f"The {claim.platform} account @{rows.account.handle} must be reconnected "
                f"({rows.account.disconnected_reason or 'its token was refused'}). Reconnect it and publish again.",
                claim.platform,
            )
        )
    if rows.account.status == "revoked" and claim.previous_status == PostStatus.SCHEDULED:
        # A post already publishing when the account was revoked finishes; a fresh one never starts.
        return Outcome.terminal(
            PlatformError(
                "ACCOUNT_DISCONNECTED",
                f"The {claim.platform} account @{rows.account.handle} was revoked "
                f"({rows.account.disconnected_reason or 'revoked'}). Connect it again and publish again.",
                claim.platform,
            )
        )
    job = build_job(rows=rows, fence=claim.fence)
    if job.mode == Mode.MANAGED and job.managed_provider is None:
        return Outcome.terminal(
            PlatformError(
                "MANAGED_PROVIDER_MISSING",
                "The account's layer has no managed-distribution provider configured.",
                claim.platform,
            )
        )
    # caption_sent was written by the claim (repository._CLAIM), from the same columns as job.caption.
    return job, dict(rows.post.journal or {})


async def _advance(
    *,
    claim: ClaimedPost,
    adapter: PlatformAdapter,
    job: DeliveryJob,
    store: PostDeliveryStore,
    settings: Settings,
) -> Outcome:
    """One adapter step, bounded in time (the worker's keeper renews the lease meanwhile)."""
    try:
        async with asyncio.timeout(settings.platform_timeout_seconds * STEP_TIMEOUT_CALLS):
            return await adapter.advance(job, store)
    except LeaseLost:
        raise
    except TimeoutError:
        error = PlatformError("TIMEOUT", f"The {claim.platform} step did not finish in time.", claim.platform)
        return Outcome.retryable(error)
    except Exception as exc:
        return _internal(claim, exc, "an adapter step")


_LEVELS = {
    "post.failed": logging.WARNING,
    "post.retrying": logging.WARNING,
    "post.processing": logging.DEBUG,
}  # a poll is not news; the state changes are


async def _fenced(write: Callable[..., Any], **params: Any) -> None:
    """Run one fenced write (its own autocommitted statement); a lost claim raises LeaseLost."""
    kept = await repository.run_statements(lambda db: write(db, **params))
    if not kept:
        raise LeaseLost(params["post_id"])


def _internal(claim: ClaimedPost, exc: Exception, during: str) -> Outcome:
    """An unexpected exception (a bug): logged with its traceback, retried within max_attempts."""
    log.exception("delivery.internal_error", extra={"postId": claim.id, "during": during})
    # The exception's type only: its text may hold a URL or a payload.
    message = f"Crier hit an internal error during {during} ({type(exc).__name__})."
    return Outcome.retryable(PlatformError(INTERNAL, message, claim.platform))


def _log(claim: ClaimedPost, event: str, status: str, *, level: int = logging.INFO, **details: Any) -> None:
    if not log.isEnabledFor(level):
        return
    log.log(
        level,
        event,
        extra={
            "postId": claim.id,
            "request_id": claim.request_id,
            "platform": claim.platform,
            "mode": claim.mode,
            "attempt": claim.fence,  # the log field keeps its name: operators query it
            "status": status,
            **details,
        },
    )
