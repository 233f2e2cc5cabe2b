"""Content intake: containers arrive from the partner's or operator's pipeline (CONTRACT §8)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crier.content import repository
from crier.content.schemas import MEDIA_COUNTS, ContentIn, ContentPatch, MediaItem
from crier.core.errors import Conflict, NotFound, validation_error
from crier.core.ids import new_id
from crier.core.settings import get_settings
from crier.core.urls import url_problem
from crier.models import ContentContainer, ScheduledPost
from crier.tenancy.ownership import OrganizationId, owned_or_404
from crier.tenancy.projects import get_project


def _check_media(media_type: str, media: list[MediaItem]) -> list[dict[str, str]]:
    low, high = MEDIA_COUNTS[media_type]
    if not low <= len(media) <= high:
        expected = f"exactly {low}" if low == high else f"{low} to {high}"
        raise validation_error(
            "body.media", f"a {media_type} container takes {expected} media items, got {len(media)}"
        )
    allowlist = get_settings().url_allowlist
    for index, item in enumerate(media):
        problem = url_problem(item.url, allowlist=allowlist)
        if problem:
            raise validation_error(f"body.media.{index}.url", f"media URL {problem}")
    return [{"url": item.url} for item in media]


async def get_container(
    session: AsyncSession,
    *,
    organization_id: OrganizationId,
    container_id: str,
    lock: repository.ContainerLock | None = None,
) -> ContentContainer:
    """The container if it belongs to the organization, locked as asked; 404 otherwise."""
    return await owned_or_404(
        lambda: repository.find_container(
            session, organization_id=organization_id, container_id=container_id, lock=lock
        ),
        object_id=container_id,
        prefix="cnt",
        not_found=NotFound("Content container not found."),
    )


async def create_container(
    session: AsyncSession, *, organization_id: OrganizationId, body: ContentIn
) -> ContentContainer:
    await get_project(session, organization_id=organization_id, project_id=body.project_id)
    container = ContentContainer(
        id=new_id("cnt"),
        organization_id=organization_id,
        project_id=body.project_id,
        status=body.status,
        approval_status="pending",
        media_type=body.media_type,
        media=_check_media(body.media_type, body.media),
        caption=body.caption,
        first_comment=body.first_comment,
    )
    session.add(container)
    await session.flush()
    await session.refresh(container)
    return container


async def update_container(
    session: AsyncSession, *, organization_id: OrganizationId, container_id: str, body: ContentPatch
) -> ContentContainer:
    # FOR UPDATE: a patch and an approval of one container serialize, so neither can slip past the other.
    container = await get_container(
        session, organization_id=organization_id, container_id=container_id, lock="update"
    )
    changes = body.model_dump(exclude_unset=True)
    await _check_not_frozen(session, container, changes)
    if "media" in changes:
        container.media = _check_media(container.media_type, body.media)
    if "status" in changes:
        container.status = body.status
    if "caption" in changes:
        container.caption = body.caption
    if "first_comment" in changes:
        container.first_comment = body.first_comment
    await session.flush()
    await session.refresh(container)
    return container


FROZEN_FIELDS = {"media": "media", "caption": "caption", "first_comment": "firstComment"}


async def _check_not_frozen(
    session: AsyncSession, container: ContentContainer, changes: dict[str, Any]
) -> None:
    """What was approved is what publishes: an approved container's content cannot change.

    Nor can a container go back to `generating` once it is approved or has posts on their way
    (stashed, scheduled or publishing), since those posts would then publish unfinished content.
    """
    if container.approval_status == "approved":
        frozen = [wire for field, wire in FROZEN_FIELDS.items() if field in changes]
        if frozen:
            raise Conflict(
                "An approved container's media, caption and firstComment cannot change; "
                "create and publish a new container instead.",
                details={"approvalStatus": "approved", "fields": frozen},
            )
    if changes.get("status") == "generating" and container.status == "completed":
        if container.approval_status == "approved":
            raise Conflict(
                "An approved container cannot go back to 'generating'.",
                details={"approvalStatus": "approved", "status": container.status},
            )
        if await repository.has_pending_posts(session, container_id=container.id):
            raise Conflict(
                "The container has posts stashed, scheduled or publishing; it cannot go back to "
                "'generating'. Cancel them first.",
                details={
                    "reason": "pending_posts",
                    "status": container.status,
                    "approvalStatus": container.approval_status,
                },
            )


async def stashed_targets(session: AsyncSession, *, container_id: str) -> list[ScheduledPost]:
    """Targets scheduled while the container awaited approval, in the order they were submitted."""
    return await repository.stashed_targets(session, container_id=container_id)
