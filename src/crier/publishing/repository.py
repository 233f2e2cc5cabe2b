"""SQL of the publish path: set-based lookups and one multi-row INSERT per batch."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ARRAY, Text, any_, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.errors import DuplicateId, NotFound
from crier.core.ids import is_valid_id
from crier.models import ContentContainer, Layer, Project, ScheduledPost, SocialAccount, TiktokMusicTrack
from crier.webhooks.outbox import POST_EVENT_COLUMNS, post_event_ctes

_PRIMARY_KEY = "pk_scheduled_posts"
_DUPLICATE_KEY = re.compile(r"\(id\)=\((?P<id>[^)]+)\)")


def any_of(values: list[str]):
    """`= ANY(:array)`: one bound array, one statement plan, whatever the batch size."""
    return any_(bindparam(None, list(values), type_=ARRAY(Text)))


async def lock_container(session: AsyncSession, *, organization_id: str, container_id: str) -> ContentContainer:
    """The container, share-locked so approve/reject/patch wait until this batch is committed."""
    # Without the lock an approval could look for the stash before a concurrent /schedule's rows
    # are visible, leaving them blocked forever; publishes of one container still run side by side.
    if not is_valid_id(container_id, "cnt"):
        raise NotFound("Content container not found.")
    container = await session.scalar(
        select(ContentContainer)
        .where(ContentContainer.id == container_id, ContentContainer.organization_id == organization_id)
        .with_for_update(read=True)
    )
    if container is None:
        raise NotFound("Content container not found.")
    return container


async def project_of(session: AsyncSession, *, project_id: str) -> Project:
    return (await session.scalars(select(Project).where(Project.id == project_id))).one()


async def accounts_by_id(session: AsyncSession, *, organization_id: str,
                         account_ids: list[str]) -> dict[str, tuple[SocialAccount, Layer | None]]:
    """The organization's accounts among `account_ids`, each with its layer, in one query."""
    wanted = sorted({account_id for account_id in account_ids if is_valid_id(account_id, "sa")})
    if not wanted:
        return {}
    rows = await session.execute(
        select(SocialAccount, Layer)
        .outerjoin(Layer, Layer.id == SocialAccount.layer_id)
        .where(SocialAccount.id == any_of(wanted), SocialAccount.organization_id == organization_id)
    )
    return {account.id: (account, layer) for account, layer in rows}


async def known_track_ids(session: AsyncSession, *, track_ids: list[str]) -> set[str]:
    if not track_ids:
        return set()
    return set(await session.scalars(select(TiktokMusicTrack.id).where(TiktokMusicTrack.id == any_of(track_ids))))


async def existing_post_ids(session: AsyncSession, *, post_ids: list[str]) -> set[str]:
    """Which of the partner-supplied ids are taken already (a live row or a stashed target)."""
    if not post_ids:
        return set()
    return set(await session.scalars(select(ScheduledPost.id).where(ScheduledPost.id == any_of(post_ids))))


async def insert_posts(session: AsyncSession, *, rows: list[dict[str, Any]]) -> None:
    """The whole batch in one INSERT; a partner id taken by a concurrent request is 409, not 500."""
    # The loser of such a race passed the existence check, waits here on the winner's uncommitted
    # key and fails once it commits; its aborted transaction is rolled back: nothing of it is written.
    # The batch's webhook events (post.scheduled) are written by the same statement (issue 11).
    changed = insert(ScheduledPost).values(rows).returning(
        *(ScheduledPost.__table__.c[name] for name in POST_EVENT_COLUMNS)).cte("changed")
    try:
        await session.execute(select(changed.c.id).add_cte(changed, *post_event_ctes()))
    except IntegrityError as exc:
        cause = exc.orig.__cause__ if exc.orig is not None else None
        if getattr(cause, "constraint_name", None) != _PRIMARY_KEY:
            raise
        match = _DUPLICATE_KEY.search(getattr(exc.orig, "detail", None) or "")
        details = {"scheduledPostId": match["id"]} if match else {}
        raise DuplicateId("A scheduledPostId already exists; pick a fresh sp_<uuid>.", details=details) from exc
