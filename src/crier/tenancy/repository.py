"""SQL of tenancy on the request path: the API key a caller presents."""

from __future__ import annotations

from sqlalchemy import Row, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from crier.models import ApiKey

# Built once: compiled a single time, served from SQLAlchemy's cache on every request.
_ACTIVE_KEY = select(ApiKey.id, ApiKey.organization_id, ApiKey.scopes).where(
    ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None)
)


async def active_key(connection: AsyncConnection, *, key_hash: str) -> Row | None:
    """The unrevoked key with this sha256 (its id, organization and scopes), or None."""
    return (await connection.execute(_ACTIVE_KEY, {"key_hash": key_hash})).first()
