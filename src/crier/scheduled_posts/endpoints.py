"""`/v1/scheduled-posts/{id}` (read, cancel) and `/v1/projects/{id}/scheduled-posts` (history)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from crier.api.openapi import error_responses
from crier.core.db import SessionDep
from crier.core.errors import Conflict, ForbiddenScope, NotFound, Unauthorized, Validation
from crier.core.schemas import StorableStr, UtcDateTime, WireMode, WirePlatform, WirePostStatus
from crier.scheduled_posts import schemas, service
from crier.tenancy.auth import PublishRead, PublishWrite

router = APIRouter(prefix="/v1", tags=["scheduled posts"])


@router.get(
    "/scheduled-posts/{post_id}",
    response_model=schemas.ScheduledPostOut,
    responses=error_responses(
        Unauthorized,
        ForbiddenScope,
        NotFound,
        examples={"FORBIDDEN_SCOPE": {"requiredScope": "publish:read"}},
    ),
    summary="Read a scheduled post (stashed ids answer too)",
)
async def get_scheduled_post(
    post_id: str, principal: PublishRead, session: SessionDep
) -> schemas.ScheduledPostOut:
    post = await service.get_post(session, organization_id=principal.organization_id, post_id=post_id)
    return schemas.ScheduledPostOut.model_validate(post)


@router.delete(
    "/scheduled-posts/{post_id}",
    response_model=schemas.ScheduledPostOut,
    responses=error_responses(
        Unauthorized,
        ForbiddenScope,
        NotFound,
        Conflict,
        examples={
            "CONFLICT": {"status": "publishing"},
            "FORBIDDEN_SCOPE": {"requiredScope": "publish:write"},
        },
    ),
    summary="Cancel a scheduled (or stashed) post before a worker claims it",
)
async def cancel_scheduled_post(
    post_id: str, principal: PublishWrite, session: SessionDep
) -> schemas.ScheduledPostOut:
    post = await service.cancel_post(session, organization_id=principal.organization_id, post_id=post_id)
    return schemas.ScheduledPostOut.model_validate(post)


@router.get(
    "/projects/{project_id}/scheduled-posts",
    response_model=schemas.ScheduledPostPage,
    responses=error_responses(
        Unauthorized,
        ForbiddenScope,
        NotFound,
        Validation,
        examples={
            "FORBIDDEN_SCOPE": {"requiredScope": "publish:read"},
            "VALIDATION": {"errors": [{"path": "query.cursor", "message": "cursor is not valid"}]},
        },
    ),
    summary="List a project's scheduled posts (filters, full-text search, keyset cursor)",
)
async def list_scheduled_posts(
    project_id: str,
    principal: PublishRead,
    session: SessionDep,
    status: Annotated[WirePostStatus | None, Query()] = None,
    platform: Annotated[WirePlatform | None, Query()] = None,
    mode: Annotated[WireMode | None, Query()] = None,
    container_id: Annotated[StorableStr | None, Query(alias="containerId")] = None,
    social_account_id: Annotated[StorableStr | None, Query(alias="socialAccountId")] = None,
    scheduled_from: Annotated[
        UtcDateTime | None, Query(alias="from", description="scheduledFor ≥ this")
    ] = None,
    scheduled_to: Annotated[UtcDateTime | None, Query(alias="to", description="scheduledFor < this")] = None,
    q: Annotated[
        StorableStr | None, Query(max_length=500, description="Full-text search over the caption sent")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[
        StorableStr | None, Query(max_length=500, description="nextCursor of the previous page")
    ] = None,
) -> schemas.ScheduledPostPage:
    filters = schemas.Filters(
        status=status,
        platform=platform,
        mode=mode,
        container_id=container_id,
        social_account_id=social_account_id,
        scheduled_from=scheduled_from,
        scheduled_to=scheduled_to,
        q=q,
    )
    items, next_cursor = await service.list_posts(
        session,
        organization_id=principal.organization_id,
        project_id=project_id,
        filters=filters,
        cursor=cursor,
        limit=limit,
    )
    return schemas.ScheduledPostPage(
        items=[schemas.ScheduledPostOut.model_validate(p) for p in items], next_cursor=next_cursor
    )
