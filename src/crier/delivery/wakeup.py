"""Wake a worker right after posts are committed: enqueue the deduplicated arq job `wake_delivery`.

Best effort: the workers' PostgreSQL sweep is the guarantee. The job has one fixed id, so a burst of
publishes collapses into one queued job; arq refuses a job whose id is queued or running, and the
worker starts its sweep only after arq has deleted the job (worker.sweep_after_wake_up), so a publish
folded into a running job is still seen by the sweep that job starts.
"""

from __future__ import annotations

import asyncio
import logging

from crier.core.redis import OutageLog, get_redis

log = logging.getLogger(__name__)

QUEUE_NAME = "crier:jobs"
WAKE_JOB = "wake_delivery"
WAKE_JOB_ID = "crier:wake-delivery"
outage = OutageLog(log, "waking workers after a publish; the sweep delivers meanwhile")


class _Coalescer:
    """At most one enqueue on its way per process: publishes that commit meanwhile ask for one more after it.

    An enqueue already sent may have reached Redis before their commit, and the job it queued may have
    started its sweep already, so they cannot simply ride on it; one enqueue after it covers them all.
    """

    enqueuing = False
    again = False


async def wake_worker() -> None:
    """Tell workers that due posts are waiting. Never raises: PostgreSQL already holds the posts."""
    if _Coalescer.enqueuing:
        _Coalescer.again = True
        return
    _Coalescer.enqueuing = True
    try:
        while True:
            _Coalescer.again = False
            try:
                await asyncio.wait_for(_enqueue(), timeout=1.0)
            except Exception as exc:  # Redis down: the sweep picks the posts up when it is back
                outage.failed(exc)
                return
            outage.answered()
            if not _Coalescer.again:
                return
    finally:
        _Coalescer.enqueuing = False


async def _enqueue() -> None:
    # None back (the job is already queued or running) is as good as a new job: see the docstring.
    await get_redis().enqueue_job(WAKE_JOB, _job_id=WAKE_JOB_ID, _queue_name=QUEUE_NAME)
