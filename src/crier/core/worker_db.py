"""The worker process's connections to PostgreSQL: its own engine, behind a connection-slot gate.

Delivery, the pacing ledger, the webhook sender and the housekeeping jobs all run in the worker and
share it: hundreds of posts (and webhook sends) are in flight at once, and each waits here for a slot
instead of inside the pool, whose checkout timeout would fail them. Who commits: `transaction()` on
exit; `run_statements` runs each statement in autocommit.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from crier.core.db import make_engine, unit_of_work
from crier.core.settings import get_settings

T = TypeVar("T")


@lru_cache
def _engine() -> AsyncEngine:
    """The worker's engine: no pre-ping round trip per checkout (see `run_statements` for recovery)."""
    return make_engine()


@lru_cache
def _sessionmaker() -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(_engine(), expire_on_commit=False)


@asynccontextmanager
async def transaction() -> AsyncIterator[AsyncSession]:
    """One short unit of work that commits on exit; never held open across a platform call.

    The one `unit_of_work` on the worker's own engine, behind its connection-slot gate: that gate is
    why the worker does not use the API's sessionmaker.

    It waits for a connection slot like `run_statements` does: hundreds of posts in flight share the
    worker's pool, and the pool's own queue would time them out (3 s) instead of letting them wait.
    Never nest it inside `run_statements` or another `transaction()`.
    """
    async with _slots(), unit_of_work(_sessionmaker()) as session:
        yield session


# Hundreds of posts are in flight per worker: they queue here for a pooled connection (without the
# pool's checkout timeout) rather than inside the pool. Per event loop, as asyncio primitives are.
_connection_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _connection_slots.get(loop)
    if slots is None:
        pool_size = get_settings().database_pool_size
        slots = _connection_slots[loop] = asyncio.Semaphore(
            max(1, 2 * pool_size - 2)
        )  # the engine holds 2 × pool_size
    return slots


async def run_statements(work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run `work` on a pooled connection in autocommit: each statement is its own transaction, one
    round trip (no BEGIN/COMMIT). Every delivery statement is a single fenced statement, so it is
    atomic alone (and safe to run again). A connection found dead (PostgreSQL restarted) is replaced
    and `work` runs again; so does a deadlock victim.
    """
    for attempt in range(1, RETRIES + 1):
        try:
            async with _slots():
                async with _engine().connect() as connection:
                    await connection.execution_options(isolation_level="AUTOCOMMIT")
                    return await work(connection)
        except DBAPIError as exc:
            # A dead connection, or a deadlock victim (its statement was rolled back): run it again.
            retry = exc.connection_invalidated or getattr(exc.orig, "sqlstate", None) in _RETRIED_STATES
            if attempt == RETRIES or not retry:
                raise
    raise AssertionError("unreachable")


RETRIES = 3
_RETRIED_STATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
