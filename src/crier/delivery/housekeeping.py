"""Periodic housekeeping, run by arq's cron in `crier worker`: each run by one worker, not by every one.

None of it is urgent: while Redis is down cron pauses and these wait; delivery does not.
"""

from __future__ import annotations

import logging
from typing import Any

from arq.cron import CronJob, cron

from crier.accounts.repository import delete_long_expired_states
from crier.delivery import repository
from crier.delivery.loop import HEARTBEAT_FORGET_SECONDS
from crier.idempotency.service import purge_expired_keys
from crier.webhooks import repository as webhooks_repository

log = logging.getLogger(__name__)

EVERY_5_MINUTES = set(range(0, 60, 5))


async def purge_idempotency_keys(ctx: dict[str, Any]) -> int:
    """Forget idempotency keys past their 24-hour window."""
    async with repository.transaction() as session:
        purged = await purge_expired_keys(session, limit=10_000)
    if purged:
        log.info("idempotency.purged", extra={"count": purged})
    return purged


async def abandon_stale_webhook_deliveries(ctx: dict[str, Any]) -> int:
    """Abandon webhook deliveries pending past 72 hours; forget signing secrets past their overlap."""
    async with repository.transaction() as session:
        abandoned = await webhooks_repository.abandon_stale(session)
    if abandoned:
        log.warning("webhook.abandoned", extra={"count": abandoned})
    return abandoned


async def purge_oauth_states(ctx: dict[str, Any]) -> None:
    """Delete OAuth connect states a day past their expiry."""
    async with repository.transaction() as session:
        await delete_long_expired_states(session)


async def forget_dead_workers(ctx: dict[str, Any]) -> None:
    """Delete the heartbeat rows of workers gone for a day (killed without a clean stop)."""
    async with repository.transaction() as session:
        await repository.forget_heartbeat(
            session, worker_id=None, stale_after_seconds=HEARTBEAT_FORGET_SECONDS
        )


CRON_JOBS: list[CronJob] = [
    cron(purge_idempotency_keys, minute=EVERY_5_MINUTES, timeout=120),
    cron(abandon_stale_webhook_deliveries, second=30, timeout=60),  # every minute
    cron(purge_oauth_states, minute=17, timeout=60),  # hourly
    cron(forget_dead_workers, minute=47, timeout=60),  # hourly
]
