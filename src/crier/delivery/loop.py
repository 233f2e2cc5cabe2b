"""The delivery loop of one worker process: sweep PostgreSQL for due posts, run them concurrently.

PostgreSQL is the truth and the sweep alone delivers everything. Redis only shortens the wait: a
wake-up (BLPOP on `crier:wake`) starts a sweep at once instead of at the next tick. When Redis is
down the listener keeps retrying quietly and the sweep goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError

from crier.core.settings import Settings
from crier.delivery import repository
from crier.delivery.runner import AdapterFor, run_claimed_post
from crier.delivery.wakeup import WAKE_KEY

log = logging.getLogger(__name__)

WAKE_BLOCK_SECONDS = 1
REDIS_RETRY_SECONDS = 1.0
# The loop counts as healthy while sweeps succeed at least this often.
HEALTHY_SWEEP_AGE_SECONDS = 60.0


class DeliveryLoop:
    """Claims due posts up to `worker_concurrency` at a time and runs each in its own task."""

    def __init__(self, *, settings: Settings, http: httpx.AsyncClient, adapter_for: AdapterFor | None = None,
                 redis_url: str | None = None) -> None:
        self.settings = settings
        self.http = http
        self.adapter_for = adapter_for
        self.redis_url = redis_url if redis_url is not None else settings.redis_url
        self.stopping = asyncio.Event()
        self.in_flight: set[asyncio.Task[str]] = set()
        self.last_sweep_ok_at = time.monotonic()
        self._wake = asyncio.Event()
        self._sweep_lock = asyncio.Lock()
        self._saturated = False
        self._background: list[asyncio.Task[None]] = []

    @property
    def healthy(self) -> bool:
        running = bool(self._background) and not any(task.done() for task in self._background)
        return running and time.monotonic() - self.last_sweep_ok_at < HEALTHY_SWEEP_AGE_SECONDS

    async def start(self) -> None:
        """Start the sweep loop and, when Redis is configured, the wake-up listener."""
        self._background.append(asyncio.create_task(self._sweep_forever(), name="crier-sweep"))
        if self.redis_url:
            self._background.append(asyncio.create_task(self._listen_for_wakeups(), name="crier-wake"))

    def wake(self) -> None:
        """Sweep now rather than at the next tick."""
        self._wake.set()

    async def sweep(self) -> int:
        """Claim as many due posts as there are free slots and start them; returns how many."""
        async with self._sweep_lock:
            free = self.settings.worker_concurrency - len(self.in_flight)
            # Never claim more than can start now: a claimed row waits out its lease otherwise.
            if self.stopping.is_set() or free <= 0:
                return 0
            async with repository.transaction() as session:
                claims = await repository.claim_due_posts(session, limit=free,
                                                          lease_seconds=self.settings.lease_seconds)
            self.last_sweep_ok_at = time.monotonic()
            self._saturated = len(claims) == free
            for claim in claims:
                task = asyncio.create_task(run_claimed_post(
                    claim=claim, http=self.http, settings=self.settings, adapter_for=self.adapter_for,
                    stopping=self.stopping), name=f"crier-post-{claim.id}")
                self.in_flight.add(task)
                task.add_done_callback(self._step_finished)
            return len(claims)

    def _step_finished(self, task: asyncio.Task[str]) -> None:
        self.in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The runner catches adapter errors; this is PostgreSQL being unreachable mid-step.
            # The lease runs out and the post is rescued by the next sweep.
            log.error("delivery step crashed", exc_info=task.exception())
        if self._saturated:  # more may be waiting: use the free slot now
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
                    log.warning("sweep failed; retrying every tick", exc_info=True,
                                extra={"error": type(exc).__name__})
                    failing = True
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            except TimeoutError:
                pass

    async def _listen_for_wakeups(self) -> None:
        # Its own client: BLPOP blocks longer than the shared clients' socket timeout allows.
        client = Redis.from_url(self.redis_url, socket_connect_timeout=1,
                                socket_timeout=WAKE_BLOCK_SECONDS + 2)
        down = False
        try:
            while not self.stopping.is_set():
                try:
                    if await client.blpop([WAKE_KEY], timeout=WAKE_BLOCK_SECONDS):
                        self.wake()
                    if down:
                        log.info("redis is back: wake-ups resume")
                        down = False
                except (RedisError, OSError) as exc:
                    if not down:  # once per outage, not once per second
                        log.warning("redis unavailable: delivering on the sweep alone",
                                    extra={"error": type(exc).__name__})
                        down = True
                    await asyncio.sleep(REDIS_RETRY_SECONDS)
        finally:
            await client.aclose()

    async def stop(self, *, grace_seconds: float) -> None:
        """Stop claiming, let in-flight steps finish within the grace period, then cancel the rest.

        A canceled step keeps its lease until it expires; the post is then rescued and resumed from
        its journal by whichever worker sweeps next.
        """
        self.stopping.set()
        self._wake.set()
        # The sweep loop ends on its own after the claim in progress (canceling a claim mid-commit
        # would strand its rows until their lease ran out); the listener is canceled mid-BLPOP.
        sweeper, *others = self._background or [None]
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
            log.info("waiting for in-flight deliveries",
                     extra={"count": len(pending), "graceSeconds": grace_seconds})
            _, pending = await asyncio.wait(pending, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("canceled in-flight deliveries; their leases expire and they are rescued",
                        extra={"count": len(pending)})
            await asyncio.gather(*pending, return_exceptions=True)
