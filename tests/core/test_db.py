"""The unit of work and the asyncpg connection under it (core.db)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from crier.core.db import driver_call, driver_connection, unit_of_work


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
