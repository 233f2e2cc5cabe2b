"""The async engine, sessions and the one unit of work.

Who commits: `unit_of_work()`, or each statement on its own on `driver_autocommit()`, where a request
writes with one statement and needs no Session at all (a publish without an Idempotency-Key). An API request gets a unit of work as its `SessionDep` (committed
once, when the endpoint returns); the worker, the CLI, the demo and key rotation open their own.
Services and repositories never commit; the idempotency claim and its release take short units of
their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from functools import lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import asyncpg
from fastapi import Depends
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from crier.core.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

T = TypeVar("T")


def async_url(url: str) -> str:
    """Accept plain `postgresql://` URLs (what operators paste) and use the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def make_engine(url: str | None = None, *, pooled: bool = True, pre_ping: bool = False) -> AsyncEngine:
    """An engine that fails fast when PostgreSQL is down; `pooled=False` for one-shot tools.

    No pre-ping by default (the API and the worker): it saves a round trip per checkout, and callers
    recover from a dead pooled connection on the first failure instead.
    """
    settings = get_settings()
    url = url or settings.database_url
    if not url:
        raise RuntimeError("DATABASE_URL is not set (make dev / make test start an embedded PostgreSQL)")
    options: dict[str, Any] = dict(
        # Error messages and logs must never carry bound values (token ciphertexts, phone numbers).
        hide_parameters=True,
        connect_args={
            "timeout": settings.database_connect_timeout_seconds,
            "command_timeout": settings.database_statement_timeout_seconds,
            "server_settings": {"application_name": "crier", "timezone": "UTC"},
        },
    )
    if pooled:
        options.update(
            # Up to 2 × CRIER_DATABASE_POOL_SIZE connections, each kept once opened. A QueuePool with
            # overflow closes its overflow connections on checkin, so a steady load above pool_size
            # opened and closed PostgreSQL sessions all the time (9/s under 50 publishing clients):
            # a backend fork, a handshake and every statement prepared afresh, all paid by the
            # request that waited for it.
            pool_size=2 * settings.database_pool_size,
            max_overflow=0,
            # Fail fast instead of hanging when PostgreSQL is down: the API answers 503 quickly.
            pool_timeout=settings.database_connect_timeout_seconds,
            # No pre-ping by default: it cost a round trip on every checkout. After a PostgreSQL restart
            # the first statement on a stale connection fails as a disconnect; SQLAlchemy then
            # invalidates every connection pooled before it (that request answers 503, the next
            # ones connect afresh).
            pool_pre_ping=pre_ping,
        )
    else:
        options["poolclass"] = NullPool
    return create_async_engine(async_url(url), **options)


@lru_cache
def get_engine() -> AsyncEngine:
    return make_engine()


@lru_cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(get_engine(), expire_on_commit=False)


@asynccontextmanager
async def autocommit_connection() -> AsyncIterator[AsyncConnection]:
    """A pooled connection for one read outside the request's unit of work, back in the pool on exit.

    Autocommit: the read is its own round trip, without BEGIN and COMMIT around it.
    """
    async with get_engine().connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> AsyncIterator[AsyncSession]:
    """One transaction: commits when the block ends, rolls back when it raises."""
    # Explicit commit rather than `session.begin()`: a block may roll back and carry on (an
    # idempotent refusal records its answer after dropping the work), and what it writes after
    # that must still be committed here.
    async with (sessionmaker or get_sessionmaker())() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


@asynccontextmanager
async def driver_autocommit() -> AsyncIterator[asyncpg.Connection]:
    """A pooled asyncpg connection with no transaction and no Session: each statement commits alone.

    For the hottest path only (a publish without an Idempotency-Key), which writes with one statement:
    no BEGIN and COMMIT round trips, and none of the Session's bookkeeping (a greenlet hop to check
    out, one to commit, one to close, and its transaction state machine: two fifths of a 1-target
    publish's CPU). The connection comes from the engine's pool and goes back to it, unless it may be
    broken: the block was interrupted mid-statement, the connection failed, or a transaction was
    left open on it.
    """
    fairy = await get_engine().raw_connection()
    connection: asyncpg.Connection = fairy.driver_connection
    reusable = False
    try:
        yield connection
        reusable = True
    except Exception as error:
        reusable = not _connection_failed(error)
        raise
    finally:
        if not reusable or connection.is_closed() or connection.is_in_transaction():
            fairy.invalidate()
        fairy.close()  # SQLAlchemy's reset-on-return has no transaction of its own to roll back here


def _connection_failed(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    cause = error.orig if isinstance(error, DBAPIError) else error
    return isinstance(
        cause, (asyncpg.InterfaceError, asyncpg.PostgresConnectionError, asyncpg.InternalClientError, OSError)
    )


async def request_session() -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: the request's unit of work, committed once when the endpoint returns."""
    async with unit_of_work() as session:
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit is a 500.
SessionDep = Annotated[AsyncSession, Depends(request_session, scope="function")]


class DriverRow(SimpleNamespace):
    """An asyncpg record's columns as attributes (`row.id`), like SQLAlchemy's `Row`."""

    @classmethod
    def of(cls, record: asyncpg.Record) -> DriverRow:
        return cls(**dict(record.items()))


_DRIVER = "crier.driver_connection"


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session's transaction, begun: for the hottest statements only.

    A statement sent on it skips SQLAlchemy's execution layers (asyncpg prepares each text once per
    connection and reuses it); it belongs to the session's transaction and commits or rolls back with
    it. Send it through `driver_call` so that errors reach the API's handlers as SQLAlchemy's do.
    """
    transaction = session.sync_session.get_transaction()
    known = session.info.get(_DRIVER)
    if transaction is not None and known is not None and known[0] is transaction:
        return known[1]  # the connection this transaction already holds: no pool or greenlet hop
    fairy = await (await session.connection()).get_raw_connection()
    adapted = cast("AsyncAdapt_asyncpg_connection", fairy.dbapi_connection)  # the asyncpg dialect's
    # SQLAlchemy's asyncpg adapter sends BEGIN with its first statement, and none may have gone yet;
    # it has no public way to begin without one (pinned by tests/core/test_db.py).
    if adapted._transaction is None:
        await adapted._start_transaction()
    session.info[_DRIVER] = (session.sync_session.get_transaction(), fairy.driver_connection)
    return fairy.driver_connection


async def driver_call(call: Awaitable[T]) -> T:
    """Await an asyncpg call, raising its database errors as SQLAlchemy's `DBAPIError` (503 vs 500)."""
    try:
        return await call
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise DBAPIError(None, None, error, hide_parameters=True) from error
    except asyncpg.InternalClientError as error:
        # asyncpg's protocol lost track of its connection (the backend was terminated while the
        # connection sat idle, say): it is gone, as after a disconnect, and the answer is a 503.
        raise DBAPIError(None, None, error, hide_parameters=True, connection_invalidated=True) from error
