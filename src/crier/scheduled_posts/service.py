"""Scheduled posts as partners see them: read, cancel while not yet claimed, list (CONTRACT §7)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.errors import Conflict, NotFound, validation_error
from crier.core.ids import is_valid_id
from crier.core.vocabulary import CANCELABLE_STATUSES
from crier.models import ScheduledPost
from crier.scheduled_posts import repository
from crier.scheduled_posts.schemas import Filters
from crier.tenancy.ownership import OrganizationId, owned_or_404
from crier.tenancy.projects import get_project


async def get_post(
    session: AsyncSession, *, organization_id: OrganizationId, post_id: str, for_update: bool = False
) -> ScheduledPost:
    """The post if it belongs to the organization; 404 otherwise (malformed ids included)."""
    return await owned_or_404(
        lambda: repository.find(
            session, organization_id=organization_id, post_id=post_id, for_update=for_update
        ),
        object_id=post_id,
        prefix="sp",
        not_found=NotFound("Scheduled post not found."),
    )


async def cancel_post(
    session: AsyncSession, *, organization_id: OrganizationId, post_id: str
) -> ScheduledPost:
    """scheduled or stashed → canceled; once a worker has claimed it, 409 with its status."""
    post = await get_post(session, organization_id=organization_id, post_id=post_id, for_update=True)
    if post.status not in CANCELABLE_STATUSES:
        raise Conflict(f"A {post.status} post cannot be canceled.", details={"status": post.status})
    return await repository.mark_canceled(session, post=post)


async def list_posts(
    session: AsyncSession,
    *,
    organization_id: OrganizationId,
    project_id: str,
    filters: Filters,
    cursor: str | None,
    limit: int,
) -> tuple[list[ScheduledPost], str | None]:
    """One page of the project's posts in (scheduledFor, id) order, and the cursor of the next."""
    await get_project(session, organization_id=organization_id, project_id=project_id)
    after = decode_cursor(cursor) if cursor is not None else None
    rows = await repository.page(
        session,
        organization_id=organization_id,
        project_id=project_id,
        filters=filters,
        after=after,
        limit=limit + 1,
    )
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(last.scheduled_for, last.id)


def encode_cursor(scheduled_for: datetime, post_id: str) -> str:
    """Opaque to partners: base64url of the last row's (scheduledFor, id) at full precision."""
    raw = json.dumps([scheduled_for.isoformat(), post_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (scheduledFor in UTC, id) position a cursor names; 422 for anything that is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, post_id = json.loads(raw)
        scheduled_for = datetime.fromisoformat(when)
        # Forged offsets can push a valid-looking time past datetime's range once in UTC
        # (9999-12-31T23:59:59-14:00): that is a bad cursor, not a database overflow.
        if scheduled_for.tzinfo is not None:
            scheduled_for = scheduled_for.astimezone(UTC)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError):
        raise _bad_cursor() from None
    if scheduled_for.tzinfo is None or not isinstance(post_id, str) or not is_valid_id(post_id, "sp"):
        raise _bad_cursor()
    return scheduled_for, post_id


def _bad_cursor() -> Exception:
    return validation_error("query.cursor", "cursor is not valid; pass nextCursor unchanged", field="cursor")
