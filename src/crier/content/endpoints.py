"""`/v1/content`: create, patch and read content containers."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from crier.api.openapi import error_responses
from crier.content import schemas, service
from crier.core.db import SessionDep
from crier.core.errors import (
    ForbiddenScope,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    NotFound,
    Unauthorized,
    Validation,
)
from crier.idempotency.dependency import IdempotentDep, replayable
from crier.models import ContentContainer
from crier.tenancy.auth import ContentRead, ContentWrite

router = APIRouter(prefix="/v1/content", tags=["content"])
_ERRORS = error_responses(Unauthorized, ForbiddenScope, NotFound, Validation)


async def _out(session: AsyncSession, container: ContentContainer) -> schemas.ContentOut:
    out = schemas.ContentOut.model_validate(container)
    stashed = await service.stashed_targets(session, container_id=container.id)
    if stashed:
        out.pending_schedule = schemas.PendingSchedule(
            scheduled_for=stashed[0].scheduled_for,
            targets=[
                schemas.PendingScheduleTarget(
                    scheduled_post_id=post.id,
                    social_account_id=post.social_account_id,
                    mode=post.mode,
                    caption_override=post.caption_override,
                    first_comment_override=post.first_comment_override,
                    tiktok_post_settings=post.tiktok_post_settings,
                    tiktok_music=post.tiktok_music,
                    share_reel_to_feed=post.share_reel_to_feed,
                )
                for post in stashed
            ],
        )
    return out


@router.post(
    "",
    status_code=201,
    response_model=schemas.ContentOut,
    responses={
        **replayable(201),
        **error_responses(
            Unauthorized, ForbiddenScope, NotFound, Validation, IdempotencyInFlight, IdempotencyKeyReused
        ),
    },
    summary="Create a content container",
)
async def create_content(
    body: schemas.ContentIn, principal: ContentWrite, session: SessionDep, idempotent: IdempotentDep
) -> Response:
    async def work() -> schemas.ContentOut:
        container = await service.create_container(
            session, organization_id=principal.organization_id, body=body
        )
        return await _out(session, container)

    return await idempotent.run(principal, work, status_code=201)


@router.patch(
    "/{container_id}",
    response_model=schemas.ContentOut,
    responses=_ERRORS,
    summary="Update a content container",
)
async def update_content(
    container_id: str, body: schemas.ContentPatch, principal: ContentWrite, session: SessionDep
) -> schemas.ContentOut:
    container = await service.update_container(
        session, organization_id=principal.organization_id, container_id=container_id, body=body
    )
    return await _out(session, container)


@router.get(
    "/{container_id}",
    response_model=schemas.ContentOut,
    responses=_ERRORS,
    summary="Read a content container",
)
async def get_content(container_id: str, principal: ContentRead, session: SessionDep) -> schemas.ContentOut:
    container = await service.get_container(
        session, organization_id=principal.organization_id, container_id=container_id
    )
    return await _out(session, container)
