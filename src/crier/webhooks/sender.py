"""The webhook sender of one worker process: claim due deliveries, POST them signed, write the outcomes.

It runs beside the delivery loop (started from delivery/worker.py) with its own slots, its own
connection pool (webhooks/connections.py: keep-alive connections, each to an address checked when it
opened) and its own loop, so a slow or dead receiver never holds a slot, a connection or a lock that
post delivery needs. At most `webhook_concurrency` POSTs are in flight, at most
`webhook_endpoint_concurrency` of them to one endpoint, so one receiver cannot take every slot.

One bookkeeping loop does all the database work: in one short transaction it records every attempt
that finished since its last turn and claims as many due deliveries as it has room for (twice the
slots, so the next POST of a slot never waits for a transaction; claims that wait behind a slow
receiver have their lease renewed). Sends run in their own tasks and never touch the database.
At-least-once: a delivery is leased (claimed) before its POST and its outcome written after it,
fenced on the claim; a sender that dies mid-POST leaves the lease to run out, and the same event
(same id, same bytes) is sent again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from functools import lru_cache

import httpcore
from sqlalchemy.ext.asyncio import AsyncSession

from crier.core import crypto
from crier.core.settings import Settings
from crier.core.urls import UrlRefused, url_problem
from crier.core.worker_db import transaction
from crier.webhooks import repository
from crier.webhooks.connections import create_pool
from crier.webhooks.policy import judge
from crier.webhooks.repository import AttemptRecord, ClaimedDelivery
from crier.webhooks.signing import signature_header

log = logging.getLogger(__name__)

USER_AGENT = "Crier-Webhooks/0.1.0"
KEPT_RESPONSE_BYTES = 1024
HEALTHY_SWEEP_AGE_SECONDS = 60.0
# Claimed deliveries per slot. A delivery stays `delivering` (and counts against its endpoint's claim
# cap) from its claim until the turn after its POST: on a busy machine a turn (one transaction) lasts
# as long as a dozen POSTs, so the queue must be that deep for a fast receiver's slots never to idle.
# Claims waiting behind a slow receiver keep their lease (renewed each turn).
PREFETCH = 16


def create_webhook_client(settings: Settings) -> httpcore.AsyncConnectionPool:
    """Keep-alive connections, each to an address checked at its setup; redirects are never followed."""
    return create_pool(
        max_connections=max(settings.webhook_concurrency, 1) * 2, allowlist=settings.url_allowlist
    )


@lru_cache(maxsize=1024)
def _decrypt(ciphertext: str) -> str:
    """Signing secrets by their ciphertext: one Fernet decryption per secret, not per POST (a rotation
    writes a new ciphertext, so the cache never serves a stale secret)."""
    return crypto.decrypt(ciphertext)


@lru_cache(maxsize=1024)
def _url_problem(url: str, allowlist: tuple[str, ...]) -> str | None:
    """The checks that need no DNS (scheme, credentials, local names), once per URL; the address
    itself is checked when a connection to it is opened (webhooks/connections.py)."""
    return url_problem(url, allowlist=allowlist)


async def attempt(
    delivery: ClaimedDelivery, *, http: httpcore.AsyncConnectionPool, settings: Settings
) -> AttemptRecord:
    """POST one claimed delivery, signed with every live secret, and judge the answer (no database)."""
    body = delivery.body.encode()
    secrets = [_decrypt(delivery.secret_encrypted)]
    if delivery.previous_secret_encrypted:
        secrets.append(_decrypt(delivery.previous_secret_encrypted))
    headers = [
        (b"Content-Type", b"application/json"),
        (b"User-Agent", USER_AGENT.encode()),
        (b"X-Layers-Event-Id", delivery.event_id.encode()),
        (b"X-Layers-Signature", signature_header(secrets, body).encode()),
    ]
    status = retry_after = kept = error = None
    try:
        problem = _url_problem(delivery.url, tuple(settings.url_allowlist))
        if problem is not None:
            raise UrlRefused(problem)
        async with asyncio.timeout(settings.webhook_timeout_seconds):  # the whole exchange, not each read
            response = await http.request("POST", delivery.url, headers=headers, content=body)
        status = response.status
        retry_after = next(
            (v.decode("latin-1") for k, v in response.headers if k.lower() == b"retry-after"), None
        )
        kept = response.content[:KEPT_RESPONSE_BYTES].decode("utf-8", "replace")
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except UrlRefused as refused:  # the host now resolves somewhere Crier must not go
        return AttemptRecord(delivery, "failed", False, None, None, None, f"url {refused.problem}")
    except (TimeoutError, httpcore.TimeoutException):
        error = f"timed out after {settings.webhook_timeout_seconds:g} s"
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol, OSError) as exc:
        error = f"network error: {type(exc).__name__}"
    verdict = judge(
        attempts_made=delivery.attempts, status=status, retry_after=retry_after, now=datetime.now(UTC)
    )
    return AttemptRecord(
        delivery,
        {"retry": "pending"}.get(verdict.status, verdict.status),
        verdict.status == "delivered",
        verdict.delay,
        status,
        kept,
        error,
    )


def _log_outcomes(records: list[AttemptRecord], written: set[str], paused: set[str]) -> None:
    for record in records:
        delivery = record.delivery
        extra = {
            "deliveryId": delivery.id,
            "eventId": delivery.event_id,
            "endpointId": delivery.endpoint_id,
            "attempt": delivery.attempts,
            "status": record.status,
            "responseStatus": record.response_status,
        }
        if delivery.id not in written:
            log.warning("webhook.claim_lost", extra=extra)
        elif not record.success:
            log.info("webhook.failed_attempt", extra={**extra, "error": record.error})
    for endpoint_id in paused:
        log.warning("webhook.endpoint_auto_paused", extra={"endpointId": endpoint_id})


async def send_one(
    delivery: ClaimedDelivery, *, http: httpcore.AsyncConnectionPool, settings: Settings
) -> str:
    """POST one claimed delivery and record its outcome; returns its new status, or "lost"."""
    record = await attempt(delivery, http=http, settings=settings)
    async with transaction() as session:
        written, paused = await repository.record_attempts(session, [record])
    _log_outcomes([record], written, paused)
    return record.status if delivery.id in written else "lost"


class WebhookSender:
    """One bookkeeping loop (record + claim, one transaction a turn) and one task per POST."""

    def __init__(self, *, settings: Settings, http: httpcore.AsyncConnectionPool | None = None) -> None:
        self.settings = settings
        self.http = http or create_webhook_client(settings)
        self.owns_http = http is None
        self.stopping = asyncio.Event()
        self.last_sweep_ok_at = time.monotonic()
        self.held = 0  # claimed rows this sender owns (in flight, waiting for a slot, or finished unrecorded)
        self.in_flight: dict[asyncio.Task[None], ClaimedDelivery] = {}
        self._sending: set[str] = set()  # deliveries whose POST has started
        self._claimed_at: dict[str, float] = {}  # when each held delivery was claimed or its lease renewed
        self._finished: list[AttemptRecord] = []
        # Claims a failed turn read back but may have committed (a commit that timed out or was
        # canceled): never sent, released by the next turn, fenced on their claim.
        self._unsure: list[ClaimedDelivery] = []
        self._slots = asyncio.Semaphore(settings.webhook_concurrency)
        self._endpoint_slots: dict[str, asyncio.Semaphore] = {}
        self._wake = asyncio.Event()
        self._turn_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def healthy(self) -> bool:
        running = self._task is not None and not self._task.done()
        return running and time.monotonic() - self.last_sweep_ok_at < HEALTHY_SWEEP_AGE_SECONDS

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="crier-webhooks")

    def wake(self) -> None:
        self._wake.set()

    async def sweep(self) -> int:
        """One turn: record what finished, claim what fits and start it; returns how many were claimed."""
        async with self._turn_lock:
            finished, self._finished = self._finished, []
            room = (
                0
                if self.stopping.is_set()
                else PREFETCH * self.settings.webhook_concurrency - (self.held - len(finished))
            )
            unsure, self._unsure = self._unsure, []
            claims: list[ClaimedDelivery] = []
            try:
                async with transaction() as session:
                    await repository.release_unsent(session, unsure)
                    written, paused = await repository.record_attempts(session, finished)
                    await self._renew_waiting_leases(session)
                    claims = await repository.claim_due_deliveries(
                        session,
                        limit=room,
                        lease_seconds=self.settings.webhook_lease_seconds,
                        per_endpoint=PREFETCH * self.settings.webhook_endpoint_concurrency,
                    )
            except BaseException:
                self._finished = finished + self._finished  # recorded next turn (or their leases run out)
                # The turn may have committed anyway (its commit timed out or was canceled): left
                # alone, these rows would sit `delivering` until their lease ran out, and count
                # against their endpoint's in-flight cap meanwhile, stalling it for a lease period.
                self._unsure = unsure + claims
                raise
            self.held += len(claims) - len(finished)
            self.last_sweep_ok_at = time.monotonic()
            _log_outcomes(finished, written, paused)
            for claim in claims:
                self._claimed_at[claim.id] = time.monotonic()
                task = asyncio.create_task(self._send(claim), name=f"crier-webhook-{claim.id}")
                self.in_flight[task] = claim
                task.add_done_callback(self._sent)
            return len(claims)

    async def _renew_waiting_leases(self, session: AsyncSession) -> None:
        """Claims still waiting for a slot (a slow receiver ahead of them) keep their lease."""
        renew_after = self.settings.webhook_lease_seconds / 3
        now = time.monotonic()
        waiting = [
            claim
            for task, claim in self.in_flight.items()
            if claim.id not in self._sending and now - self._claimed_at.get(claim.id, now) > renew_after
        ]
        if waiting:
            await repository.renew_leases(session, waiting, lease_seconds=self.settings.webhook_lease_seconds)
            for claim in waiting:
                self._claimed_at[claim.id] = now

    async def _send(self, delivery: ClaimedDelivery) -> None:
        endpoint_slot = self._endpoint_slots.setdefault(
            delivery.endpoint_id, asyncio.Semaphore(self.settings.webhook_endpoint_concurrency)
        )
        async with endpoint_slot, self._slots:
            self._sending.add(delivery.id)
            record = await attempt(delivery, http=self.http, settings=self.settings)
        self._sending.discard(delivery.id)
        self._claimed_at.pop(delivery.id, None)
        self._finished.append(record)
        self._wake.set()

    def _sent(self, task: asyncio.Task[None]) -> None:
        self.in_flight.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook send crashed", exc_info=task.exception())  # its lease runs out: sent again

    async def _run(self) -> None:
        interval = self.settings.webhook_sweep_interval_seconds
        failing = False
        while not self.stopping.is_set():
            self._wake.clear()
            try:
                await self.sweep()
                failing = False
            except Exception as exc:  # PostgreSQL down: keep trying every tick, log once per outage
                if not failing:
                    log.warning(
                        "webhook turn failed; retrying every tick", extra={"error": type(exc).__name__}
                    )
                    failing = True
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            except TimeoutError:
                pass

    async def stop(self, *, grace_seconds: float) -> None:
        """Stop claiming; POSTs under way get the grace period; what finished is recorded, and what was
        claimed but not sent is released (due again at once, for any worker)."""
        self.stopping.set()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=grace_seconds)
            except Exception:  # timed out (canceled then) or crashed: nothing left to wait for
                pass
        tasks = dict(self.in_flight)
        unsent = [claim for task, claim in tasks.items() if claim.id not in self._sending]
        for task, claim in tasks.items():
            if claim.id not in self._sending:
                task.cancel()
        started = [task for task, claim in tasks.items() if claim.id in self._sending]
        if started:
            _, late = await asyncio.wait(started, timeout=grace_seconds)
            for task in late:  # their leases run out and they are sent again
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await self.sweep()  # records what finished (stopping: claims nothing)
            async with transaction() as session:
                await repository.release_unsent(session, unsent)
        except Exception:  # PostgreSQL gone: the leases run out instead
            log.warning("webhook sender stopped without recording its last outcomes", exc_info=True)
        if self.owns_http:
            await self.http.aclose()
