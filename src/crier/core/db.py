"""The async engine and sessions. One unit of work per request and per job: callers commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from crier.core.settings import get_settings


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
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_size,
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


async def session_scope() -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: commit when the endpoint returns, roll back when it raises."""
    async with get_sessionmaker()() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
