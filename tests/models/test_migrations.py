"""The migrations build exactly the schema the models declare (what autogenerate would see)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from crier.core.db import get_engine
from crier.migrate import alembic_config
from crier.models import Base


async def test_the_migrated_database_matches_the_models(database_url):
    def differences(connection):
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, Base.metadata)

    async with get_engine().connect() as connection:
        found = await connection.run_sync(differences)

    assert found == []


async def test_the_database_is_at_the_single_head_revision(database_url):
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()

    async with get_engine().connect() as connection:
        current = await connection.scalar(text("SELECT version_num FROM alembic_version"))

    assert len(heads) == 1
    assert current == heads[0]
