"""The async engine and sessions. One unit of work per request and per job: callers commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import lru_cache

from sqlalchemy.pool import NullPool
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from crier.core.settings import get_settings


def async_url(url: str) -> str:
    """Accept plain `postgresql://` URLs (what operators paste) and use the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    return url


def make_engine(url: str | None = None, *, pooled: bool = True, pre_ping: bool = True) -> AsyncEngine:
    """An engine that fails fast when PostgreSQL is down; `pooled=False` for one-shot tools.

    `pre_ping=False` (the worker) saves a round trip per checkout; its caller recovers from a dead
    pooled connection on the first failure instead.
    """
    settings = get_settings()
    url = url or settings.database_url
    if not url:
        raise RuntimeError("DATABASE_URL is not set (make dev / make test start an embedded PostgreSQL)")
    options: dict = dict(
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


async def session_scope() -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: commit when the endpoint returns, roll back when it raises."""
    async with get_sessionmaker()() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
