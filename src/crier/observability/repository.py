"""SQL of the gauges read from PostgreSQL when Prometheus scrapes (posts by status, the due backlog)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.vocabulary import PostStatus

# A scrape must never hang on a busy database: two seconds, then crier_database_up says 0.
SCRAPE_STATEMENT_TIMEOUT_MS = 2000

_STATUS_COUNTS = text("SELECT status, count(*) FROM scheduled_posts GROUP BY status")
# Served by ix_scheduled_posts_due (partial on the active statuses): cheap at any table size.
_BACKLOG = text(f"""
    SELECT count(*), coalesce(extract(epoch FROM now() - min(due_at)), 0)
    FROM scheduled_posts
    WHERE status IN ('{PostStatus.SCHEDULED}', '{PostStatus.PUBLISHING}') AND due_at <= now()
""")


async def bound_scrape_time(session: AsyncSession) -> None:
    await session.execute(text(f"SET LOCAL statement_timeout = {SCRAPE_STATEMENT_TIMEOUT_MS}"))


async def post_counts_by_status(session: AsyncSession) -> dict[str, int]:
    """Every status's count: a scan of the table, which is why callers cache it."""
    rows = (await session.execute(_STATUS_COUNTS)).all()
    return {str(status): int(count) for status, count in rows}


async def due_backlog(session: AsyncSession) -> tuple[int, float]:
    """(posts due now that no worker holds, seconds the oldest of them has waited)."""
    count, oldest = (await session.execute(_BACKLOG)).one()
    return int(count), max(0.0, float(oldest))
