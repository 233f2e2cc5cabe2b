"""The delivery loop of one worker process: sweep PostgreSQL for due posts, run them concurrently.

PostgreSQL is the truth and the sweep alone delivers everything; it needs no Redis. A wake-up only
shortens the wait: `wake()` (worker.py calls it after each arq job `wake_delivery`) starts a sweep
at once instead of at the next tick.

A sweep claims a batch (one statement) and loads every claimed post's rows (one more), including
posts due in the next `worker_claim_ahead_seconds`: each then starts at its own instant. Up to
`worker_concurrency` posts are in flight; a waiting post (its instant, a poll delay, a short backoff)
is a sleeping task, so that number is not what bounds the work: database connections and per-host
HTTP connections are. One keeper renews every held lease in one statement; the sweep also records
the worker's heartbeat in PostgreSQL (`crier worker --check` reads it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from crier.core.settings import Settings
from crier.delivery import repository
from crier.delivery.repository import ClaimedPost, DeliveryRows
from crier.delivery.runner import AdapterFor, LeaseKeeper, run_claimed_post

log = logging.getLogger(__name__)

# The loop counts as healthy while sweeps succeed at least this often.
HEALTHY_SWEEP_AGE_SECONDS = 60.0
# At most this many posts per claim statement (a burst is claimed in a few of them).
CLAIM_BATCH = 250
# With the in-flight cap reached, a finishing post wakes the sweep only once this many slots are free.
REFILL_AT = 25
HEARTBEAT_EVERY_SECONDS = 5.0
# Heartbeat rows of workers gone this long (killed without a clean stop) are deleted.
HEARTBEAT_FORGET_SECONDS = 86_400.0


def worker_identity() -> tuple[str, str]:
    """(worker_id, hostname): the heartbeat row's key, unique per process start."""
    hostname = socket.gethostname()
    return f"{hostname}:{os.getpid()}:{secrets.token_hex(4)}", hostname


class DeliveryLoop:
    """Claims due posts, up to `worker_concurrency` in flight, and runs each in its own task."""

    def __init__(
        self,
        *,
        settings: Settings,
        http: httpx.AsyncClient,
        adapter_for: AdapterFor | None = None,
    ) -> None:
        self.settings = settings
        self.http = http
        self.adapter_for = adapter_for
        self.stopping = asyncio.Event()
        self.in_flight: set[asyncio.Task[str]] = set()
        self.last_sweep_ok_at = time.monotonic()
        self._wake = asyncio.Event()
        self._sweep_lock = asyncio.Lock()
        self._saturated = False
        self._background: list[asyncio.Task[None]] = []
        self.leases = LeaseKeeper(lease_seconds=settings.lease_seconds)
        self._leases_stopped = asyncio.Event()
        self.worker_id, self.hostname = worker_identity()
        self._heartbeat_at = 0.0
        self._keeper: asyncio.Task[None] | None = None

    @property
    def healthy(self) -> bool:
        running = bool(self._background) and not any(task.done() for task in self._background)
        return running and time.monotonic() - self.last_sweep_ok_at < HEALTHY_SWEEP_AGE_SECONDS

    async def start(self) -> None:
        """Start the sweep loop and the lease keeper."""
        self._background.append(asyncio.create_task(self._sweep_forever(), name="crier-sweep"))
        # Not in _background: it keeps renewing while in-flight steps finish during a stop.
        self._keeper = asyncio.create_task(self.leases.keep(self._leases_stopped), name="crier-leases")

    def wake(self) -> None:
        """Sweep now rather than at the next tick."""
        self._wake.set()

    async def sweep(self) -> int:
        """Claim due posts (and those due within the claim-ahead window) and start them; returns how many."""
        async with self._sweep_lock:
            free = self.settings.worker_concurrency - len(self.in_flight)
            # Never claim more than can start now: a claimed row waits out its lease otherwise.
            if self.stopping.is_set():
                return 0
            limit = min(free, CLAIM_BATCH)
            heartbeat = time.monotonic() - self._heartbeat_at >= HEARTBEAT_EVERY_SECONDS

            async def claim_and_load(
                db: AsyncConnection,
            ) -> tuple[list[ClaimedPost], dict[str, DeliveryRows]]:
                if heartbeat:
                    await repository.record_heartbeat(
                        db, worker_id=self.worker_id, hostname=self.hostname, pid=os.getpid()
                    )
                claims = await repository.claim_due_posts(
                    db,
                    limit=limit,
                    lease_seconds=self.settings.lease_seconds,
                    ahead_seconds=self.settings.worker_claim_ahead_seconds,
                )
                return claims, await repository.load_delivery_rows_many(db, [claim.id for claim in claims])

            claims, rows = await repository.run_statements(claim_and_load)
            self.last_sweep_ok_at = time.monotonic()
            if heartbeat:
                self._heartbeat_at = self.last_sweep_ok_at
            self._saturated = free <= 0 or len(claims) == limit
            for claim in claims:
                task = asyncio.create_task(
                    run_claimed_post(
                        claim=claim,
                        http=self.http,
                        settings=self.settings,
                        adapter_for=self.adapter_for,
                        stopping=self.stopping,
                        rows=rows.get(claim.id),
                        leases=self.leases,
                    ),
                    name=f"crier-post-{claim.id}",
                )
                self.in_flight.add(task)
                task.add_done_callback(self._step_finished)
            if claims and len(claims) == limit and limit < free:
                self._wake.set()  # a full batch with room left: more may be due, claim again at once
            return len(claims)

    def _step_finished(self, task: asyncio.Task[str]) -> None:
        self.in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The runner catches adapter errors; this is PostgreSQL being unreachable mid-step.
            # The lease runs out and the post is rescued by the next sweep.
            log.error("delivery step crashed", exc_info=task.exception())
        # More may be waiting: claim again once a useful number of slots is free.
        if self._saturated and self.settings.worker_concurrency - len(self.in_flight) >= min(
            REFILL_AT, self.settings.worker_concurrency
        ):
            self._saturated = False
            self._wake.set()

    async def _sweep_forever(self) -> None:
        interval = self.settings.worker_sweep_interval_seconds
        failing = False
        while not self.stopping.is_set():
            self._wake.clear()
            try:
                await self.sweep()
                if failing:
                    log.info("sweeps succeed again")
                    failing = False
            except Exception as exc:  # PostgreSQL down: keep trying every tick, log once per outage
                if not failing:
                    log.warning(
                        "sweep failed; retrying every tick",
                        exc_info=True,
                        extra={"error": type(exc).__name__},
                    )
                    failing = True
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            except TimeoutError:
                pass

    async def stop(self, *, grace_seconds: float) -> None:
        """Stop claiming, let in-flight steps finish within the grace period, then cancel the rest.

        A canceled step keeps its lease until it expires; the post is then rescued and resumed from
        its journal by whichever worker sweeps next.
        """
        self.stopping.set()
        self._wake.set()
        # The sweep loop ends on its own after the claim in progress (canceling a claim mid-commit
        # would strand its rows until their lease ran out).
        sweeper, others = (self._background[0], self._background[1:]) if self._background else (None, [])
        for task in others:
            task.cancel()
        if sweeper is not None:
            try:
                await asyncio.wait_for(sweeper, timeout=grace_seconds)
            except Exception:  # timed out (it is canceled then) or crashed: nothing left to wait for
                pass
        await asyncio.gather(*others, return_exceptions=True)
        pending = set(self.in_flight)
        if pending:
            log.info(
                "waiting for in-flight deliveries",
                extra={"count": len(pending), "graceSeconds": grace_seconds},
            )
            _, pending = await asyncio.wait(pending, timeout=grace_seconds)
        for step in pending:
            step.cancel()
        if pending:
            log.warning(
                "canceled in-flight deliveries; their leases expire and they are rescued",
                extra={"count": len(pending)},
            )
            await asyncio.gather(*pending, return_exceptions=True)
        self._leases_stopped.set()
        if self._keeper is not None:
            await asyncio.gather(self._keeper, return_exceptions=True)
        try:  # a stopped worker no longer vouches for itself
            await repository.run_statements(
                lambda db: repository.forget_heartbeat(
                    db, worker_id=self.worker_id, stale_after_seconds=HEARTBEAT_FORGET_SECONDS
                )
            )
        except Exception as exc:  # PostgreSQL down: the row goes stale, which --check reads the same
            log.warning("could not remove the worker's heartbeat", extra={"error": type(exc).__name__})
