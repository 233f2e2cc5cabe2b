"""`POST /v1/content/{id}/publish` and `/schedule`: thin routes over one service path."""

from __future__ import annotations

from typing import Any, Literal

import asyncpg
from fastapi import APIRouter, BackgroundTasks, Request
from starlette.responses import Response

from crier.api.lean import json_body, with_lean
from crier.api.openapi import error_responses, merge_responses, success_examples
from crier.core.context import current_request_id
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
from crier.delivery.wakeup import wake_worker
from crier.idempotency.dependency import IdempotencyKeyHeader, replayable, run_once
from crier.publishing import schemas, service
from crier.tenancy.auth import PublishWrite, require_scope

router = APIRouter(prefix="/v1/content", tags=["publishing"])  # served by api.lean.LeanDispatch first

_EXAMPLES: dict[str, dict[str, Any]] = {
    "FORBIDDEN_SCOPE": {"requiredScope": "publish:write"},
    "VALIDATION": {
        "reason": "non_instagram_target",
        "platform": "tiktok",
        "socialAccountId": "sa_71b2a4e5-8c3f-4d1a-9e7b-2c5d8f0a1b22",
        "errors": [
            {
                "path": "body.targets.0.shareReelToFeed",
                "message": "shareReelToFeed applies to Instagram targets only",
            }
        ],
    },
    "SOCIAL_ACCOUNT_NOT_PUBLISH_READY": {
        "socialAccountId": "sa_71b2a4e5-8c3f-4d1a-9e7b-2c5d8f0a1b22",
        "mode": "publish",
    },
    "APPROVAL_REQUIRED": {
        "containerId": "cnt_8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999",
        "approvalStatus": "pending",
    },
    "NOT_FOUND": {"socialAccountId": "sa_71b2a4e5-8c3f-4d1a-9e7b-2c5d8f0a1b22"},
    "CONFLICT": {"status": "generating"},
    "CONTENT_REJECTED": {"approvalStatus": "rejected"},
    "CONFLICT_DUPLICATE_ID": {"scheduledPostId": "sp_4c8e7d2f-9a1b-4c3d-8e7f-2a1b3c4d5e60"},
    "IDEMPOTENCY_IN_FLIGHT": {"retryAfterSeconds": 1},
    "IDEMPOTENCY_KEY_REUSED": {"idempotencyKey": "3a7b2f11-9e4c-4a12-9d8a-b5c7e2f0a111"},
}
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
    examples=_EXAMPLES,
)
_POST_ID = "sp_4c8e7d2f-9a1b-4c3d-8e7f-2a1b3c4d5e60"
_PUBLISH_RESPONSES = merge_responses(
    replayable(), success_examples(queued_for_immediate_publish={"scheduledPostIds": [_POST_ID]}), _ERRORS
)
_SCHEDULE_RESPONSES = merge_responses(
    replayable(),
    success_examples(
        queued={
            "scheduledPostIds": [_POST_ID],
            "gateStatus": "queued",
            "scheduledFor": "2026-05-01T14:00:00.000Z",
        },
        blocked_on_approval={
            "scheduledPostIds": [_POST_ID],
            "gateStatus": "blocked_on_approval",
            "scheduledFor": "2026-05-01T14:00:00.000Z",
        },
    ),
    _ERRORS,
)


_IDEMPOTENCY_KEY_MAX = 255  # IdempotencyKeyHeader's max_length
_publish_write = require_scope("publish:write")


def _idempotency_key(request: Request) -> str | Literal[False] | None:
    """The header as FastAPI would pass it, or False when FastAPI would refuse it (too long)."""
    key = request.headers.get("idempotency-key")
    return False if key is not None and len(key) > _IDEMPOTENCY_KEY_MAX else key


async def _publish_lean(request: Request) -> Response | None:
    """publish_content for a well-formed request, without FastAPI's machinery (crier.api.lean)."""
    body = await json_body(request, schemas.PublishIn)
    key = _idempotency_key(request)
    if body is None or key is False:
        return None
    principal = await _publish_write(request)  # the dependency FastAPI would run first
    background = BackgroundTasks()
    response: Response = await publish_content(
        request.path_params["container_id"], body, principal, request, background, key
    )
    response.background = background  # as FastAPI attaches the endpoint's tasks
    return response


async def _schedule_lean(request: Request) -> Response | None:
    """schedule_content for a well-formed request, without FastAPI's machinery (crier.api.lean)."""
    body = await json_body(request, schemas.ScheduleIn)
    key = _idempotency_key(request)
    if body is None or key is False:
        return None
    principal = await _publish_write(request)
    response: Response = await schedule_content(
        request.path_params["container_id"], body, principal, request, key
    )
    return response


# The two routes run their work through `run_once` rather than SessionDep and IdempotentDep: one
# commit, before the response, without FastAPI's generator-dependency machinery (an exit stack and a
# shielded cancel scope per request) and, for a request without an Idempotency-Key, without a Session.
@router.post(
    "/{container_id}/publish",
    response_model=schemas.PublishOut,
    responses=_PUBLISH_RESPONSES,
    summary="Publish a container now (1–50 targets, all-or-nothing)",
)
@with_lean(_publish_lean)
async def publish_content(
    container_id: str,
    body: schemas.PublishIn,
    principal: PublishWrite,
    request: Request,
    background: BackgroundTasks,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    service.check_body(body.targets)

    async def work(connection: asyncpg.Connection) -> schemas.PublishOut:
        accepted = await service.accept(
            connection,
            organization_id=principal.organization_id,
            container_id=container_id,
            targets=body.targets,
            scheduled_for=None,
            stash_when_gated=False,
            request_id=current_request_id(),
        )
        background.add_task(wake_worker)  # background tasks run after the response, so after the commit
        return schemas.PublishOut(scheduled_post_ids=accepted.scheduled_post_ids)

    return await run_once(request, principal, idempotency_key, work)


@router.post(
    "/{container_id}/schedule",
    response_model=schemas.ScheduleOut,
    responses=_SCHEDULE_RESPONSES,
    summary="Schedule a container (stashed until approval when the project's gate is closed)",
)
@with_lean(_schedule_lean)
async def schedule_content(
    container_id: str,
    body: schemas.ScheduleIn,
    principal: PublishWrite,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    service.check_body(body.targets, scheduled_for=body.scheduled_for)

    async def work(connection: asyncpg.Connection) -> schemas.ScheduleOut:
        accepted = await service.accept(
            connection,
            organization_id=principal.organization_id,
            container_id=container_id,
            targets=body.targets,
            scheduled_for=body.scheduled_for,
            stash_when_gated=True,
            request_id=current_request_id(),
        )
        # No wake-up: nothing is due yet, the worker's sweep finds these rows when they are.
        return schemas.ScheduleOut(
            scheduled_post_ids=accepted.scheduled_post_ids,
            gate_status="blocked_on_approval" if accepted.blocked_on_approval else "queued",
            scheduled_for=body.scheduled_for,
        )

    return await run_once(request, principal, idempotency_key, work)
