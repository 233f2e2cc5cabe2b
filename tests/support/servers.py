"""Start (or borrow) the PostgreSQL and Redis servers a test run talks to."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from crier.core.db import async_url


def _reset_caches() -> None:
    from crier.core import crypto, db, settings

    settings.get_settings.cache_clear()
    db.get_engine.cache_clear()
    db.get_sessionmaker.cache_clear()
    crypto.reset_keys()


@contextmanager
def start_test_servers(folder: Path) -> Iterator[dict[str, str]]:
    from crier.devstack.embedded import EmbeddedPostgres, EmbeddedRedis
    from crier.migrate import upgrade

    external_db = os.environ.get("DATABASE_URL")
    external_redis = os.environ.get("REDIS_URL")
    postgres = redis = None
    if external_db:
        name = f"crier_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(_admin_sql(external_db, f'CREATE DATABASE "{name}"'))
        database_url = _with_database(external_db, name)
    else:
        postgres = EmbeddedPostgres(folder / "postgres", database="crier_test")
        database_url = postgres.start()
    if external_redis:
        redis_url = external_redis
    else:
        redis = EmbeddedRedis(folder / "redis")
        redis_url = redis.start()
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    _reset_caches()
    upgrade(database_url)
    try:
        yield {"database_url": database_url, "redis_url": redis_url, "postgres": postgres, "redis": redis}
    finally:
        if external_db:
            asyncio.run(_admin_sql(external_db, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            os.environ["DATABASE_URL"] = external_db
        if external_redis:
            os.environ["REDIS_URL"] = external_redis
        if redis is not None:
            redis.stop()
        if postgres is not None:
            postgres.stop()


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(async_url(url)).set(database=name).render_as_string(hide_password=False)


async def _admin_sql(url: str, statement: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(async_url(url))
    connection = await asyncpg.connect(
        user=parsed.username,
        password=parsed.password,
        host=parsed.host or parsed.query.get("host"),
        port=parsed.port,
        database=parsed.database or "postgres",
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def truncate_all() -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from crier.core.db import get_engine
    from crier.models import Base

    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    for attempt in range(5):
        try:
            async with get_engine().begin() as connection:
                await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        except DBAPIError as exc:
            # A worker left running between tests (tests/e2e) reads several tables in one statement
            # (the webhook sender's claim); PostgreSQL may pick the TRUNCATE as the deadlock victim.
            if "deadlock detected" not in str(exc) or attempt == 4:
                raise
