"""`/v1/content/{id}/approve|reject` and `/v1/projects/{id}/approval-policy` (CONTRACT §5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Body
from starlette.responses import Response

from crier.api.openapi import error_responses, merge_responses, success_examples
from crier.approval import schemas, service
from crier.core.db import SessionDep
from crier.core.errors import (
    Conflict,
    ForbiddenScope,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    NotFound,
    Unauthorized,
    Validation,
    ValidationFailed,
)
from crier.delivery.wakeup import wake_worker
from crier.idempotency.dependency import IdempotentDep, replayable
from crier.tenancy.auth import ContentApprove, ContentRead
from crier.tenancy.projects import get_project

router = APIRouter(prefix="/v1", tags=["approval"])

_REVIEW_ERRORS = error_responses(
    Unauthorized,
    ForbiddenScope,
    NotFound,
    Conflict,
    IdempotencyInFlight,
    Validation,
    ValidationFailed,
    IdempotencyKeyReused,
    examples={
        "CONFLICT": {"approvalStatus": "approved"},
        "VALIDATION_FAILED": {"status": "generating"},
        "FORBIDDEN_SCOPE": {"requiredScope": "content:approve"},
        "IDEMPOTENCY_IN_FLIGHT": {"retryAfterSeconds": 1},
    },
)
_CONTAINER_ID, _KEY_ID = (
    "cnt_8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999",
    "key_c2037bb9-5d1e-4f7a-9b3c-0a1b2c3d4e5f",
)
_APPROVED = {
    "id": _CONTAINER_ID,
    "approvalStatus": "approved",
    "approvedAt": "2026-04-18T09:40:12.000Z",
    "approvedBy": _KEY_ID,
    "approvalNote": "Looks good. Shipping tomorrow 7am.",
}
_APPROVE_RESPONSES = merge_responses(
    replayable(),
    success_examples(
        approved=_APPROVED,
        approved_and_promoted={
            **_APPROVED,
            "pendingSchedulePromotion": {
                "status": "ok",
                "scheduledPostIds": ["sp_4c8e7d2f-9a1b-4c3d-8e7f-2a1b3c4d5e60"],
            },
        },
    ),
    _REVIEW_ERRORS,
)
_REJECT_RESPONSES = merge_responses(
    replayable(),
    success_examples(
        rejected={
            "id": _CONTAINER_ID,
            "approvalStatus": "rejected",
            "rejectedAt": "2026-04-18T09:40:12.000Z",
            "rejectedBy": _KEY_ID,
            "rejectionReason": "Off-brand music.",
            "canceledScheduledPostIds": ["sp_4c8e7d2f-9a1b-4c3d-8e7f-2a1b3c4d5e60"],
        },
    ),
    _REVIEW_ERRORS,
)


@router.post(
    "/content/{container_id}/approve",
    response_model=schemas.ApprovalOut,
    responses=_APPROVE_RESPONSES,
    summary="Approve a content container (promotes a stashed schedule)",
)
async def approve_content(
    container_id: str,
    principal: ContentApprove,
    session: SessionDep,
    idempotent: IdempotentDep,
    background: BackgroundTasks,
    body: Annotated[schemas.ApproveIn | None, Body()] = None,
) -> Response:
    async def work() -> schemas.ApprovalOut:
        container, promotion = await service.approve(
            session,
            organization_id=principal.organization_id,
            container_id=container_id,
            key_id=principal.key_id,
            note=body.note if body else None,
        )
        if promotion is not None and promotion.status == "ok":
            background.add_task(wake_worker)  # runs after the response, so after the commit
        assert container.approved_at is not None and container.approved_by is not None  # approve() set them
        return schemas.ApprovalOut(
            id=container.id,
            approval_status="approved",
            approved_at=container.approved_at,
            approved_by=container.approved_by,
            approval_note=container.approval_note,
            pending_schedule_promotion=None
            if promotion is None
            else schemas.PendingSchedulePromotion(
                status=promotion.status,
                scheduled_post_ids=promotion.scheduled_post_ids if promotion.status == "ok" else None,
                details=promotion.details,
            ),
        )

    return await idempotent.run(principal, work)


@router.post(
    "/content/{container_id}/reject",
    response_model=schemas.RejectionOut,
    responses=_REJECT_RESPONSES,
    summary="Reject a content container (discards a stashed schedule)",
)
async def reject_content(
    container_id: str,
    principal: ContentApprove,
    session: SessionDep,
    idempotent: IdempotentDep,
    body: Annotated[schemas.RejectIn | None, Body()] = None,
) -> Response:
    async def work() -> schemas.RejectionOut:
        container, canceled = await service.reject(
            session,
            organization_id=principal.organization_id,
            container_id=container_id,
            key_id=principal.key_id,
            reason=body.reason if body else None,
        )
        assert container.rejected_at is not None and container.rejected_by is not None  # reject() set them
        return schemas.RejectionOut(
            id=container.id,
            approval_status="rejected",
            rejected_at=container.rejected_at,
            rejected_by=container.rejected_by,
            rejection_reason=container.rejection_reason,
            canceled_scheduled_post_ids=canceled,
        )

    return await idempotent.run(principal, work)


@router.get(
    "/projects/{project_id}/approval-policy",
    response_model=schemas.ApprovalPolicyOut,
    responses=error_responses(
        Unauthorized,
        ForbiddenScope,
        NotFound,
        examples={"FORBIDDEN_SCOPE": {"requiredScope": "content:read"}},
    ),
    summary="Read a project's approval policy",
)
async def get_approval_policy(
    project_id: str, principal: ContentRead, session: SessionDep
) -> schemas.ApprovalPolicyOut:
    project = await get_project(session, organization_id=principal.organization_id, project_id=project_id)
    return schemas.ApprovalPolicyOut(
        project_id=project.id,
        requires_approval=project.requires_approval,
        first_n_posts_blocked=project.first_n_posts_blocked,
        current_blocked_count=project.current_blocked_count,
        gate_open=service.gate_open(project),
    )
