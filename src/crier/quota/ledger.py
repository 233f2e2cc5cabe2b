"""The AccountLedger adapters use (platforms.base): pacing slots and stored limits, in PostgreSQL.

PostgreSQL is the truth rather than a per-process bucket: several workers (and preflight in the API)
call the same account's token, and only a shared log keeps all of them under one per-token rate.
Each slot is taken in its own short transaction under an advisory lock on (account, call), so two
workers never take the same slot; the cost is one round trip per paced call, small next to the
platform call it guards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.db import unit_of_work
from crier.platforms.base import QuotaState
from crier.quota import repository

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
        async with self._transaction() as session:
            await repository.lock_call_log(session, account_id=self.account_id, call=call)
            if self.post_id is not None:
                reserved = await repository.own_reservation(
                    session, account_id=self.account_id, call=call, post_id=self.post_id
                )
                if reserved is not None and reserved[1] < -late_seconds:
                    await repository.drop_slot(session, slot_id=reserved[0])
                elif reserved is not None:
                    slot_id, wait = reserved
                    if take and wait <= may_wait_seconds:
                        await repository.consume(session, slot_id=slot_id)
                    return max(0.0, wait)
            wait = await repository.next_slot_wait(
                session, account_id=self.account_id, call=call, limit=limit, window_seconds=window_seconds
            )
            if wait > may_wait_seconds and self.post_id is not None:
                await repository.insert_slot(
                    session, account_id=self.account_id, call=call, wait_seconds=wait, post_id=self.post_id
                )
            elif take:
                await repository.insert_slot(
                    session, account_id=self.account_id, call=call, wait_seconds=wait, post_id=None
                )
        return wait

    async def log_sent(self, call: str) -> None:
        """Count one call made now (the "sent in the last 24 h" ledger)."""
        async with self._transaction() as session:
            await repository.insert_slot(
                session, account_id=self.account_id, call=call, wait_seconds=0.0, post_id=None
            )

    async def sent(self, call: str, *, window_seconds: float) -> tuple[int, float | None]:
        async with self._transaction() as session:
            return await repository.sent_within(
                session, account_id=self.account_id, call=call, window_seconds=window_seconds
            )

    async def quota(self, name: str) -> QuotaState | None:
        async with self._transaction() as session:
            found = await repository.find_quota(session, account_id=self.account_id, name=name)
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
