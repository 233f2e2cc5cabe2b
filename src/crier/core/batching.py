"""Many callers, one round trip: calls made while a batch is in flight all go in the next one.

A worker has hundreds of posts in flight, each making the same small writes and reads at its own
pace; answering each with its own statement (or transaction) costs a round trip and a checkout per
call. A Coalescer collects the calls of one kind, hands them to one handler call, and answers each
caller with its own result. One batch is in flight at a time, so under load the batches grow by
themselves and at rest a call waits for nothing but its own statement.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Coalescer(Generic[Item, Result]):
    """Runs `handle` on the items waiting (up to `max_batch`), one batch at a time, in arrival order."""

    def __init__(
        self, handle: Callable[[list[Item]], Awaitable[Sequence[Result]]], *, max_batch: int = 500
    ) -> None:
        self.handle = handle
        self.max_batch = max_batch
        self.pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self.draining = False
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Queue `item` and wait for its batch; its result, or the exception its batch raised."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self.pending.append((item, future))
        if not self.draining:
            self.draining = True
            # The next tick: the calls made in this one join the batch. Kept: a task nobody holds may
            # be collected mid-run.
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending[: self.max_batch], self.pending[self.max_batch :]
                try:
                    results = await self.handle([item for item, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self.draining = False
