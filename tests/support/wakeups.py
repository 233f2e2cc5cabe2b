"""The API's wake-up as tests see it: whether the deduplicated arq job `wake_delivery` is queued."""

from __future__ import annotations

from arq.constants import job_key_prefix

from crier.core.redis import get_redis
from crier.delivery.wakeup import QUEUE_NAME, WAKE_JOB_ID


async def wake_up_queued() -> bool:
    """True when a wake-up job waits in the queue for a worker."""
    redis = get_redis()
    return bool(await redis.exists(job_key_prefix + WAKE_JOB_ID)) and (
        await redis.zscore(QUEUE_NAME, WAKE_JOB_ID) is not None
    )


async def forget_wake_up() -> None:
    """Drop a queued wake-up job, so the next one a test expects is enqueued afresh."""
    redis = get_redis()
    await redis.delete(job_key_prefix + WAKE_JOB_ID)
    await redis.zrem(QUEUE_NAME, WAKE_JOB_ID)
