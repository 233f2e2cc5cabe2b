"""The webhook sender of one worker process: claim due deliveries, POST them signed, write the outcome.

It runs beside the delivery loop (started from delivery/worker.py) with its own slots
(`webhook_concurrency`), its own HTTP client and its own sweep, so a slow or dead receiver never
holds a slot, a connection or a lock that post delivery needs. A claim takes at most
`webhook_endpoint_concurrency` deliveries of one endpoint, so one receiver cannot take every slot.

At-least-once: the delivery is leased before the POST and its outcome written after it, fenced on
the claim; a sender that dies mid-POST leaves the lease to run out and the same event (same id, same
bytes) is sent again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import httpx

from crier.core import crypto
from crier.core.settings import Settings
from crier.core.urls import UrlRefused, pinned_request
from crier.delivery.repository import transaction
from crier.webhooks import repository
from crier.webhooks.policy import judge
from crier.webhooks.repository import ClaimedDelivery
from crier.webhooks.signing import signature_header

log = logging.getLogger(__name__)

USER_AGENT = "Crier-Webhooks/0.1.0"
KEPT_RESPONSE_BYTES = 1024
ABANDON_SWEEP_SECONDS = 60.0
HEALTHY_SWEEP_AGE_SECONDS = 60.0


def create_webhook_client(settings: Settings) -> httpx.AsyncClient:
    """Redirects are never followed (a 3xx is the receiver's answer); every POST ends within the timeout."""
    return httpx.AsyncClient(timeout=httpx.Timeout(settings.webhook_timeout_seconds), follow_redirects=False,
                             limits=httpx.Limits(max_connections=max(settings.webhook_concurrency, 1) * 2),
                             headers={"User-Agent": USER_AGENT})


async def send_one(delivery: ClaimedDelivery, *, http: httpx.AsyncClient, settings: Settings) -> str:
    """POST one claimed delivery and record its outcome; returns the delivery's new status, or "lost"."""
    body = delivery.body.encode()
    secrets = [crypto.decrypt(delivery.secret_encrypted)]
    if delivery.previous_secret_encrypted:
        secrets.append(crypto.decrypt(delivery.previous_secret_encrypted))
    headers = {"Content-Type": "application/json", "X-Layers-Event-Id": delivery.event_id,
               "X-Layers-Signature": signature_header(secrets, body)}
    status = retry_after = kept = error = None
    try:
        response = await pinned_request(http, "POST", delivery.url, allowlist=settings.url_allowlist,
                                        content=body, headers=headers)
        status, retry_after = response.status_code, response.headers.get("Retry-After")
        kept = response.content[:KEPT_RESPONSE_BYTES].decode("utf-8", "replace")
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except UrlRefused as refused:  # the host now resolves somewhere Crier must not go
        return await _record(delivery, status="failed", success=False, delay=None, response_status=None,
                             response_body=None, error=f"url {refused.problem}")
    except httpx.TimeoutException:
        error = f"timed out after {settings.webhook_timeout_seconds:g} s"
    except httpx.HTTPError as exc:
        error = f"network error: {type(exc).__name__}"
    verdict = judge(attempts_made=delivery.attempts, status=status, retry_after=retry_after, now=datetime.now(UTC))
    new_status = {"retry": "pending"}.get(verdict.status, verdict.status)
    return await _record(delivery, status=new_status, success=verdict.status == "delivered", delay=verdict.delay,
                         response_status=status, response_body=kept, error=error)


async def _record(delivery: ClaimedDelivery, *, status: str, success: bool, delay: float | None,
                  response_status: int | None, response_body: str | None, error: str | None) -> str:
    async with transaction() as session:
        written, endpoint_status = await repository.record_attempt(
            session, delivery=delivery, status=status, success=success, delay=delay,
            response_status=response_status, response_body=response_body, error=error)
    extra = {"deliveryId": delivery.id, "eventId": delivery.event_id, "endpointId": delivery.endpoint_id,
             "attempt": delivery.attempts, "status": status, "responseStatus": response_status}
    if not written:
        log.warning("webhook.claim_lost", extra=extra)
        return "lost"
    log.info("webhook.sent" if success else "webhook.failed_attempt", extra={**extra, "error": error})
    if endpoint_status == "auto_paused":
        log.warning("webhook.endpoint_auto_paused", extra={"endpointId": delivery.endpoint_id})
    return status


class WebhookSender:
    """Sweeps PostgreSQL for due deliveries and sends up to `webhook_concurrency` at once."""

    def __init__(self, *, settings: Settings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.http = http or create_webhook_client(settings)
        self.owns_http = http is None
        self.stopping = asyncio.Event()
        self.in_flight: set[asyncio.Task[str]] = set()
        self.last_sweep_ok_at = time.monotonic()
        self._wake = asyncio.Event()
        self._sweep_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._last_abandon_sweep = 0.0

    @property
    def healthy(self) -> bool:
        running = self._task is not None and not self._task.done()
        return running and time.monotonic() - self.last_sweep_ok_at < HEALTHY_SWEEP_AGE_SECONDS

    async def start(self) -> None:
        self._task = asyncio.create_task(self._sweep_forever(), name="crier-webhooks")

    def wake(self) -> None:
        self._wake.set()

    async def sweep(self) -> int:
        """Claim as many due deliveries as there are free slots and start them; returns how many."""
        async with self._sweep_lock:
            free = self.settings.webhook_concurrency - len(self.in_flight)
            if self.stopping.is_set() or free <= 0:
                return 0
            async with transaction() as session:
                if time.monotonic() - self._last_abandon_sweep > ABANDON_SWEEP_SECONDS:
                    abandoned = await repository.abandon_stale(session)
                    self._last_abandon_sweep = time.monotonic()
                    if abandoned:
                        log.warning("webhook.abandoned", extra={"count": abandoned})
                claims = await repository.claim_due_deliveries(
                    session, limit=free, lease_seconds=self.settings.webhook_lease_seconds,
                    per_endpoint=self.settings.webhook_endpoint_concurrency)
            self.last_sweep_ok_at = time.monotonic()
            for claim in claims:
                task = asyncio.create_task(send_one(claim, http=self.http, settings=self.settings),
                                           name=f"crier-webhook-{claim.id}")
                self.in_flight.add(task)
                task.add_done_callback(self._sent)
            return len(claims)

    def _sent(self, task: asyncio.Task[str]) -> None:
        self.in_flight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # PostgreSQL unreachable while recording: the lease runs out and the event is sent again.
            log.error("webhook send crashed", exc_info=task.exception())
        self._wake.set()  # a slot is free, and the post's next event may be due now

    async def _sweep_forever(self) -> None:
        interval = self.settings.webhook_sweep_interval_seconds
        failing = False
        while not self.stopping.is_set():
            self._wake.clear()
            try:
                await self.sweep()
                failing = False
            except Exception as exc:  # PostgreSQL down: keep trying every tick, log once per outage
                if not failing:
                    log.warning("webhook sweep failed; retrying every tick", extra={"error": type(exc).__name__})
                    failing = True
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            except TimeoutError:
                pass

    async def stop(self, *, grace_seconds: float) -> None:
        """Stop claiming; in-flight sends get the grace period, then their leases make them due again."""
        self.stopping.set()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=grace_seconds)
            except Exception:  # timed out (canceled then) or crashed: nothing left to wait for
                pass
        pending = set(self.in_flight)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self.owns_http:
            await self.http.aclose()
