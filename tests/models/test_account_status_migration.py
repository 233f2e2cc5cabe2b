"""The OAuth revision moves 'disconnected' accounts to the new statuses: the operator's to `revoked`,
the ones a dead token disconnected to `reauth_required` (which a reauth repairs)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from sqlalchemy.engine import make_url

from crier.core.db import async_url
from crier.migrate import upgrade
from tests.support.servers import _admin_sql, _with_database

BEFORE_OAUTH = "908568a5ad3e"
OAUTH_REVISION = "5f2c8e1a9b7d"


async def _sql(url: str, statement: str) -> list:
    parsed = make_url(async_url(url))
    connection = await asyncpg.connect(
        user=parsed.username,
        password=parsed.password,
        host=parsed.host or parsed.query.get("host"),
        port=parsed.port,
        database=parsed.database,
    )
    try:
        if ";" in statement:  # a script: no result rows
            await connection.execute(statement)
            return []
        return await connection.fetch(statement)
    finally:
        await connection.close()


def test_disconnected_accounts_become_revoked_or_reauth_required(database_url):
    name = f"crier_migration_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin_sql(database_url, f'CREATE DATABASE "{name}"'))
    scratch = _with_database(database_url, name)
    try:
        upgrade(scratch, BEFORE_OAUTH)
        asyncio.run(
            _sql(
                scratch,
                """
            INSERT INTO organizations (id, name) VALUES ('org_1', 'Acme');
            INSERT INTO projects (id, organization_id, name) VALUES ('prj_1', 'org_1', 'Main');
            INSERT INTO social_accounts (id, organization_id, project_id, platform, handle, external_account_id,
                                         access_token_encrypted, status, disconnected_reason)
            VALUES ('sa_op', 'org_1', 'prj_1', 'tiktok', 'a', 'x1', 'c', 'disconnected', 'operator'),
                   ('sa_dead', 'org_1', 'prj_1', 'tiktok', 'b', 'x2', 'c', 'disconnected', 'invalid_grant'),
                   ('sa_ok', 'org_1', 'prj_1', 'instagram', 'c', 'x3', 'c', 'connected', NULL);
        """,
            )
        )

        upgrade(scratch, OAUTH_REVISION)

        rows = asyncio.run(
            _sql(scratch, "SELECT id, status, connected_at = created_at AS kept FROM social_accounts")
        )
        assert {row["id"]: row["status"] for row in rows} == {
            "sa_op": "revoked",
            "sa_dead": "reauth_required",
            "sa_ok": "connected",
        }
        assert all(row["kept"] for row in rows)  # connectedAt of an existing account: when it was created
    finally:
        asyncio.run(_admin_sql(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
