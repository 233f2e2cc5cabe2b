"""SQL of tenancy: the API key a caller presents (on every request's path) and the projects it owns."""

from __future__ import annotations

from sqlalchemy import Row, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from crier.models import ApiKey, Project

# Built once (compiled a single time, served from SQLAlchemy's cache), on the table's columns: a plain
# Core statement, no ORM layer on the path every authenticated request takes.
_keys = ApiKey.__table__.c
_ACTIVE_KEY = select(_keys.id, _keys.organization_id, _keys.scopes).where(
    _keys.key_hash == bindparam("key_hash"), _keys.revoked_at.is_(None)
)


async def active_key(connection: AsyncConnection, *, key_hash: str) -> Row[str, str, list[str]] | None:
    """The unrevoked key with this sha256 (its id, organization and scopes), or None."""
    return (await connection.execute(_ACTIVE_KEY, {"key_hash": key_hash})).first()


async def find_project(session: AsyncSession, *, organization_id: str, project_id: str) -> Project | None:
    """The organization's project with this id, or None."""
    return await session.scalar(
        select(Project).where(Project.id == project_id, Project.organization_id == organization_id)
    )
