"""PostgreSQL restarting (SQLSTATE 57P03 "cannot connect now") is 503 UNAVAILABLE, never a 500."""

from __future__ import annotations

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError

from crier.api.errors import _is_connection_problem


def _wrapped(asyncpg_error: Exception) -> DBAPIError:
    return DBAPIError("connect", None, AsyncAdapt_asyncpg_dbapi.Error("wrapped", asyncpg_error))


def test_a_server_still_recovering_is_a_connection_problem():
    assert _is_connection_problem(_wrapped(asyncpg.exceptions.CannotConnectNowError("recovering")))


def test_an_admin_shutdown_is_a_connection_problem():
    assert _is_connection_problem(_wrapped(asyncpg.exceptions.AdminShutdownError("shutting down")))


def test_a_query_error_is_not_a_connection_problem():
    assert not _is_connection_problem(_wrapped(asyncpg.exceptions.UniqueViolationError("duplicate")))
