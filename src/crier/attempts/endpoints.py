"""`POST /v1/scheduled-posts/{id}/retry` and `GET /v1/scheduled-posts/{id}/attempts` (Crier extensions)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks
from starlette.responses import Response

from crier.api.openapi import error_responses, merge_responses
from crier.attempts import schemas, service
from crier.core.db import SessionDep
from crier.core.errors import (
    Conflict,
    ForbiddenScope,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    NotFound,
    Unauthorized,
)
from crier.delivery.wakeup import wake_worker
from crier.idempotency.dependency import IdempotentDep, replayable
from crier.scheduled_posts.schemas import ScheduledPostOut
from crier.tenancy.auth import PublishRead, PublishWrite

router = APIRouter(prefix="/v1/scheduled-posts", tags=["scheduled posts"])

_RETRY_ERRORS = error_responses(
    Unauthorized,
    ForbiddenScope,
    NotFound,
    Conflict,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    examples={
        "CONFLICT": {"reason": "outcome_unknown"},
        "FORBIDDEN_SCOPE": {"requiredScope": "publish:write"},
    },
)


@router.post(
    "/{post_id}/retry",
    response_model=ScheduledPostOut,
    responses=merge_responses(replayable(), _RETRY_ERRORS),
    summary="Re-queue a failed post under the same id when the platform surely has no copy",
)
async def retry_scheduled_post(
    post_id: str,
    principal: PublishWrite,
    session: SessionDep,
    idempotent: IdempotentDep,
    background: BackgroundTasks,
) -> Response:
    async def work() -> ScheduledPostOut:
        post = await service.retry_post(session, organization_id=principal.organization_id, post_id=post_id)
        background.add_task(wake_worker)  # after the response, so after the commit
        return ScheduledPostOut.model_validate(post)

    return await idempotent.run(principal, work)


@router.get(
    "/{post_id}/attempts",
    response_model=schemas.AttemptList,
    responses=error_responses(
        Unauthorized,
        ForbiddenScope,
        NotFound,
        examples={"FORBIDDEN_SCOPE": {"requiredScope": "publish:read"}},
    ),
    summary="Every delivery attempt of a post: started, ended, step reached, error",
)
async def list_post_attempts(
    post_id: str, principal: PublishRead, session: SessionDep
) -> schemas.AttemptList:
    attempts = await service.list_attempts(
        session, organization_id=principal.organization_id, post_id=post_id
    )
    return schemas.AttemptList(items=[schemas.AttemptOut.model_validate(attempt) for attempt in attempts])
