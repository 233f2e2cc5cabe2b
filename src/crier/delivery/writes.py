"""Group commit for the fenced writes that hundreds of in-flight posts make at the same time.

A post's step waits for its write to commit before it goes on (an intent marker before an
irreversible call, a handle the moment it arrives, the final status), exactly as with a statement
of its own. But writes of the same kind issued while one is in flight are sent together, as one
set-based statement (`unnest` arrays), as soon as it returns: the cost per post falls with load
instead of queueing one round trip per post, and a burst's starts all land at its instant.

Each statement is fenced row by row on (id, fence) exactly as the single-row writes are, and
commits on its own (autocommit); a write's result is whether its row was still held. The attempt
history's steps (bookkeeping, not fenced: the post's own write came first) are grouped the same way.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from crier.core.batching import Coalescer
from crier.delivery import attempts_repository, repository

# Rows per statement; more wait for the next one.
MAX_BATCH = 500

Flush = Callable[[AsyncConnection, list[dict[str, Any]]], Awaitable[dict[str, Any]]]


class GroupWriter:
    """Collects writes of one kind; one statement at a time carries all that are waiting."""

    def __init__(self, flush: Flush) -> None:
        self.flush = flush
        self.batches: Coalescer[dict[str, Any], Any] = Coalescer(self._write_batch, max_batch=MAX_BATCH)

    async def write(self, **params: Any) -> Any:
        """Queue one row's write and wait until its statement committed; returns its row's result
        (None when the row was not held any more)."""
        return await self.batches.submit(params)

    async def _write_batch(self, rows: list[dict[str, Any]]) -> list[Any]:
        results = await repository.run_statements(lambda db: self.flush(db, rows))
        return [results.get(row["post_id"]) for row in rows]


class DeliveryWrites:
    """The grouped writes of one event loop (one worker process)."""

    def __init__(self) -> None:
        self.starts = GroupWriter(repository.start_posts)
        self.journals = GroupWriter(repository.merge_journals)
        self.deliveries = GroupWriter(repository.mark_delivered_many)
        self.attempts = GroupWriter(attempts_repository.record_steps)

    async def start(self, *, post_id: str, fence: int) -> datetime | None:
        """The post claimed ahead becomes `publishing` now; its attemptedAt, None if it was lost."""
        attempted_at: datetime | None = await self.starts.write(post_id=post_id, fence=fence)
        return attempted_at

    async def record_attempt_step(
        self, *, post_id: str, started_at: datetime, step: str, outcome: str, error: Any, ends: bool
    ) -> None:
        """The step just applied, in the post's attempt history (crier.delivery.attempts)."""
        await self.attempts.write(
            post_id=post_id, started_at=started_at, step=step, outcome=outcome, error=error, ends=ends
        )

    async def merge_journal(self, *, post_id: str, fence: int, handles: dict[str, Any]) -> bool:
        return bool(await self.journals.write(post_id=post_id, fence=fence, handles=handles))

    async def mark_delivered(
        self, *, post_id: str, fence: int, status: str, external_id: str | None, external_url: str | None
    ) -> bool:
        return bool(
            await self.deliveries.write(
                post_id=post_id,
                fence=fence,
                status=status,
                external_id=external_id,
                external_url=external_url,
            )
        )


_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, DeliveryWrites] = weakref.WeakKeyDictionary()


def delivery_writes() -> DeliveryWrites:
    loop = asyncio.get_running_loop()
    writes = _per_loop.get(loop)
    if writes is None:
        writes = _per_loop[loop] = DeliveryWrites()
    return writes
