"""`POST /v1/content/{id}/validate`: /publish's body, nothing written (a Crier extension)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from crier.api.openapi import error_responses, merge_responses
from crier.core.db import SessionDep
from crier.core.errors import (
    ApprovalRequired,
    Conflict,
    ContentRejected,
    DuplicateId,
    ForbiddenScope,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    NotFound,
    NotPublishReady,
    Unauthorized,
    Validation,
)
from crier.core.settings import get_settings
from crier.idempotency.dependency import IdempotentDep, replayable
from crier.preflight import schemas, service
from crier.publishing.schemas import PublishIn
from crier.tenancy.auth import PublishWrite

router = APIRouter(prefix="/v1/content", tags=["publishing"])

_ERRORS = error_responses(
    Unauthorized,
    ForbiddenScope,
    ApprovalRequired,
    NotFound,
    Conflict,
    ContentRejected,
    DuplicateId,
    IdempotencyInFlight,
    Validation,
    NotPublishReady,
    IdempotencyKeyReused,
    examples={"FORBIDDEN_SCOPE": {"requiredScope": "publish:write"}, "CONFLICT": {"status": "generating"}},
)


@router.post(
    "/{container_id}/validate",
    response_model=schemas.ValidateOut,
    responses=merge_responses(replayable(), _ERRORS),
    summary="Preflight a publish: the contract's checks without writing, then the platforms' live checks",
)
async def validate_publish(
    container_id: str,
    body: PublishIn,
    principal: PublishWrite,
    session: SessionDep,
    idempotent: IdempotentDep,
) -> Response:
    async def work() -> schemas.ValidateOut:
        return await service.validate(
            session,
            organization_id=principal.organization_id,
            container_id=container_id,
            targets=body.targets,
            settings=get_settings(),
        )

    return await idempotent.run(principal, work)
