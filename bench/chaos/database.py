"""PostgreSQL read straight, around the API: the posts' final rows for the waits and the audit."""

from __future__ import annotations

from typing import Any


class Database:
    def __init__(self, url: str) -> None:
        from crier.core.db import make_engine

        self.engine = make_engine(url, pooled=False)

    async def rows(self, ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
        from sqlalchemy import text

        sql = (
            "SELECT id, status, platform, mode, external_id, last_error, updated_at, attempt, retry_count, "
            "journal ->> 'reconcile_result' AS reconcile_result, "
            "(SELECT count(*) FROM delivery_attempts a WHERE a.scheduled_post_id = scheduled_posts.id "
            "AND a.outcome = 'deferred') AS deferrals "
            "FROM scheduled_posts"
        )
        params: dict[str, Any] = {}
        if ids is not None:
            sql += " WHERE id = ANY(:ids)"
            params["ids"] = list(ids)
        async with self.engine.connect() as connection:
            result = await connection.execute(text(sql), params)
            return {row.id: dict(row._mapping) for row in result}

    async def close(self) -> None:
        await self.engine.dispose()
