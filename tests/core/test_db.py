"""The unit of work and the asyncpg connection under it (core.db)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from crier.core.db import driver_autocommit, driver_call, driver_connection, get_engine, unit_of_work


async def _tracks(session) -> int:
    return await session.scalar(text("SELECT count(*) FROM tiktok_music_tracks WHERE id = 'uow-track'"))


_INSERT = "INSERT INTO tiktok_music_tracks (id, title, artist, link) VALUES ('uow-track', 't', 'a', 'l')"


async def test_the_driver_connection_writes_in_the_unit_of_work_which_commits(servers, session):
    async with unit_of_work() as work:
        connection = await driver_connection(work)
        await connection.execute(_INSERT)
        assert await _tracks(work) == 1  # the session's own statements see it: one transaction
        assert await _tracks(session) == 0  # nothing is visible before the commit
    assert await _tracks(session) == 1


async def test_a_unit_of_work_that_raises_leaves_nothing_behind(servers, session):
    with pytest.raises(RuntimeError):
        async with unit_of_work() as work:
            await (await driver_connection(work)).execute(_INSERT)
            raise RuntimeError("the work failed")
    assert await _tracks(session) == 0


async def test_a_unit_of_work_commits_what_it_writes_after_a_rollback(servers, session):
    async with unit_of_work() as work:
        await (await driver_connection(work)).execute(_INSERT)
        await work.rollback()  # an idempotent refusal drops the work and records its answer after
        await work.execute(text(_INSERT))
    assert await _tracks(session) == 1


async def test_driver_errors_reach_the_handlers_as_sqlalchemy_errors(servers):
    async with unit_of_work() as work:
        connection = await driver_connection(work)
        with pytest.raises(DBAPIError):
            await driver_call(connection.execute("SELECT * FROM no_such_table"))
        await work.rollback()


async def test_on_a_driver_autocommit_connection_each_statement_commits_alone(servers, session):
    async with driver_autocommit() as connection:
        await connection.execute(_INSERT)
        assert await _tracks(session) == 1  # committed already, before the block ends
        assert not connection.is_in_transaction()


async def test_a_driver_autocommit_block_that_raises_pools_its_connection(servers, session):
    await session.execute(text("SELECT 1"))  # the test's own session holds a connection from here on
    checked_out = get_engine().pool.checkedout()
    with pytest.raises(DBAPIError):
        async with driver_autocommit() as connection:
            backend = await connection.fetchval("SELECT pg_backend_pid()")
            await driver_call(connection.execute("SELECT * FROM no_such_table"))  # a statement that fails
    assert get_engine().pool.checkedout() == checked_out  # back in the pool, and alive:
    state = await session.scalar(
        text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend}
    )
    assert state == "idle"


async def test_a_connection_left_in_a_transaction_is_not_pooled(servers, session):
    async with driver_autocommit() as connection:
        backend = await connection.fetchval("SELECT pg_backend_pid()")
        await connection.execute("BEGIN")
    gone = await session.scalar(
        text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend}
    )
    for _ in range(50):  # the backend ends once it reads the closed socket
        if gone:
            break
        await asyncio.sleep(0.02)
        gone = await session.scalar(
            text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend}
        )
    assert gone


async def test_a_driver_autocommit_connection_that_died_is_not_pooled(servers, session):
    await session.execute(text("SELECT 1"))  # the test's own session holds a connection from here on
    checked_out = get_engine().pool.checkedout()
    with pytest.raises(DBAPIError):  # InterfaceError or InternalClientError, as the farewell's timing falls
        async with driver_autocommit() as connection:
            backend = await connection.fetchval("SELECT pg_backend_pid()")
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            await driver_call(connection.fetchval("SELECT 1"))
    async with driver_autocommit() as connection:  # a fresh connection serves the next request
        assert await connection.fetchval("SELECT pg_backend_pid()") != backend
        assert await connection.fetchval("SELECT 1") == 1
    assert get_engine().pool.checkedout() == checked_out  # nothing leaked


async def test_a_protocol_that_lost_its_connection_is_a_disconnect():
    # asyncpg raises InternalClientError ("another operation is in progress") when a terminated
    # backend's farewell lands mid-statement: a 503 like any disconnect, not a 500.
    import asyncpg

    async def lost() -> None:
        raise asyncpg.InternalClientError("cannot switch to state 11; another operation (2) is in progress")

    with pytest.raises(DBAPIError) as raised:
        await driver_call(lost())
    assert raised.value.connection_invalidated
