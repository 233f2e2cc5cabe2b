"""The AccountLedger adapters use (platforms.base): pacing slots and stored limits, in PostgreSQL.

PostgreSQL is the truth rather than a per-process bucket: several workers (and preflight in the API)
call the same account's token, and only a shared log keeps all of them under one per-token rate.
Slots are taken under an advisory lock on (account, call), so two workers never take the same slot.
A worker's posts pace many calls a second: the paces (and logged calls) made while one batch is in
flight share the next one (core.batching), one short transaction that locks, reads and writes every
log the batch touches, so the cost per paced call is a share of a transaction, not one of its own.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.batching import Coalescer
from crier.core.db import unit_of_work
from crier.platforms.base import QuotaState
from crier.quota import repository
from crier.quota.slots import PaceRequest, plan_slots

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


@asynccontextmanager
async def request_transaction() -> AsyncIterator[AsyncSession]:
    """The API's pool (preflight); the worker passes its own, gated like every delivery statement."""
    async with unit_of_work() as session:
        yield session


class PostgresLedger:
    """One account's ledger, on behalf of one post (None: a preflight, which reserves nothing)."""

    def __init__(
        self, *, account_id: str, post_id: str | None, transaction: Transaction = request_transaction
    ) -> None:
        self.account_id, self.post_id = account_id, post_id
        self._transaction = transaction

    async def pace(
        self,
        call: str,
        *,
        limit: int,
        window_seconds: float,
        may_wait_seconds: float,
        take: bool = True,
        late_seconds: float = 0.0,
    ) -> float:
        """Take a slot (or this post's reserved one); seconds until the call may go.

        `take=False` only looks: a slot due within `may_wait_seconds` is left for a later pace() (the
        caller has another call to make first); a later one is still reserved for the post. A
        reservation the post comes back to more than `late_seconds` after its time is given up for a
        fresh slot: the calls placed after it assumed this one went out on time.
        """
        request = PaceRequest(
            self.account_id,
            call,
            self.post_id,
            limit=limit,
            window_seconds=window_seconds,
            may_wait_seconds=may_wait_seconds,
            take=take,
            late_seconds=late_seconds,
        )
        return await _batches(self._transaction).paces.submit(request)

    async def log_sent(self, call: str) -> None:
        """Count one call made now (the "sent in the last 24 h" ledger)."""
        await _batches(self._transaction).paces.submit(
            PaceRequest(self.account_id, call, None, log_only=True)
        )

    async def sent(self, call: str, *, window_seconds: float) -> tuple[int, float | None]:
        async with self._transaction() as session:
            return await repository.sent_within(
                session, account_id=self.account_id, call=call, window_seconds=window_seconds
            )

    async def quota(self, name: str) -> QuotaState | None:
        found = await _batches(self._transaction).quotas.submit((self.account_id, name))
        if found is None:
            return None
        row, age, resets_in = found
        return QuotaState(
            limit=row.limit,
            used=row.used,
            window_seconds=float(row.window_seconds),
            source=row.source,
            age_seconds=age,
            resets_in_seconds=resets_in,
        )

    async def save_quota(
        self,
        name: str,
        *,
        limit: int | None,
        used: int,
        window_seconds: float,
        source: str,
        resets_in_seconds: float | None = None,
    ) -> None:
        async with self._transaction() as session:
            await repository.save_quota(
                session,
                account_id=self.account_id,
                name=name,
                limit=limit,
                used=used,
                window_seconds=window_seconds,
                source=source,
                resets_in_seconds=resets_in_seconds,
            )

    async def count(self, name: str) -> None:
        async with self._transaction() as session:
            await repository.count_use(session, account_id=self.account_id, name=name)


class _Batches:
    """The batched ledger work of one event loop on one transaction factory."""

    def __init__(self, transaction: Transaction) -> None:
        self.transaction = transaction
        self.paces: Coalescer[PaceRequest, float] = Coalescer(self._pace)
        self.quotas: Coalescer[tuple[str, str], repository.FoundQuota | None] = Coalescer(self._quotas)

    async def _pace(self, requests: list[PaceRequest]) -> list[float]:
        keys = sorted({request.log_key for request in requests})
        async with self.transaction() as session:
            await repository.lock_call_logs(session, keys)
            plan = plan_slots(requests, await repository.read_call_logs(session, requests))
            if plan.new_slots or plan.consumed or plan.dropped:
                await repository.write_call_logs(session, plan, keys)
        return plan.waits

    async def _quotas(self, wanted: list[tuple[str, str]]) -> list[repository.FoundQuota | None]:
        async with self.transaction() as session:
            found = await repository.find_quotas(session, wanted)
        return [found.get(key) for key in wanted]


_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Transaction, _Batches]] = (
    weakref.WeakKeyDictionary()
)


def _batches(transaction: Transaction) -> _Batches:
    per_transaction = _per_loop.setdefault(asyncio.get_running_loop(), {})
    batches = per_transaction.get(transaction)
    if batches is None:
        batches = per_transaction[transaction] = _Batches(transaction)
    return batches
