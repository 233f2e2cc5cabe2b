"""`/v1/webhook-endpoints` and `/v1/webhook-deliveries/{id}/replay`: thin routes over webhooks.service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from crier.api.openapi import error_responses, merge_responses
from crier.core.db import SessionDep
from crier.core.errors import (
    ForbiddenScope,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    NotFound,
    Unauthorized,
    Validation,
)
from crier.core.schemas import StorableStr
from crier.idempotency.dependency import IdempotentDep, replayable
from crier.models import WebhookEndpoint
from crier.tenancy.auth import WebhooksRead, WebhooksWrite
from crier.webhooks import schemas, service
from crier.webhooks.repository import DeliveryFilters

router = APIRouter(prefix="/v1", tags=["webhooks"])

_READ_ERRORS = error_responses(
    Unauthorized,
    ForbiddenScope,
    NotFound,
    Validation,
    examples={"FORBIDDEN_SCOPE": {"requiredScope": "webhooks:read"}},
)
_WRITE_ERRORS = error_responses(
    Unauthorized,
    ForbiddenScope,
    NotFound,
    Validation,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    examples={
        "FORBIDDEN_SCOPE": {"requiredScope": "webhooks:write"},
        "VALIDATION": {
            "errors": [
                {
                    "path": "body.events.0",
                    "field": "events[0]",
                    "message": "unknown event type 'post.exploded'",
                }
            ]
        },
    },
)
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[StorableStr | None, Query(max_length=500, description="nextCursor of the previous page")]


def _out(endpoint: WebhookEndpoint) -> schemas.EndpointOut:
    return schemas.EndpointOut.model_validate(endpoint)


@router.post(
    "/webhook-endpoints",
    response_model=schemas.EndpointCreated,
    status_code=201,
    responses=merge_responses(replayable(201), _WRITE_ERRORS),
    summary="Register a webhook endpoint (the signing secret is answered once)",
)
async def create_webhook_endpoint(
    body: schemas.EndpointIn, principal: WebhooksWrite, session: SessionDep, idempotent: IdempotentDep
) -> Response:
    async def work() -> schemas.EndpointCreated:
        endpoint, secret = await service.create_endpoint(
            session, organization_id=principal.organization_id, body=body
        )
        return schemas.EndpointCreated(endpoint=_out(endpoint), signing_secret=secret)

    return await idempotent.run(principal, work, status_code=201)


@router.get(
    "/webhook-endpoints",
    response_model=schemas.EndpointPage,
    responses=_READ_ERRORS,
    summary="List webhook endpoints (keyset cursor)",
)
async def list_webhook_endpoints(
    principal: WebhooksRead, session: SessionDep, limit: Limit = 25, cursor: Cursor = None
) -> schemas.EndpointPage:
    items, next_cursor = await service.list_endpoints(
        session, organization_id=principal.organization_id, cursor=cursor, limit=limit
    )
    return schemas.EndpointPage(items=[_out(item) for item in items], next_cursor=next_cursor)


@router.get(
    "/webhook-endpoints/{endpoint_id}",
    response_model=schemas.EndpointOut,
    responses=_READ_ERRORS,
    summary="Read a webhook endpoint (never its secret)",
)
async def get_webhook_endpoint(
    endpoint_id: str, principal: WebhooksRead, session: SessionDep
) -> schemas.EndpointOut:
    return _out(
        await service.get_endpoint(
            session, organization_id=principal.organization_id, endpoint_id=endpoint_id
        )
    )


@router.patch(
    "/webhook-endpoints/{endpoint_id}",
    response_model=schemas.EndpointOut,
    responses=_WRITE_ERRORS,
    summary="Change a webhook endpoint, pause it or re-activate it",
)
async def update_webhook_endpoint(
    endpoint_id: str, body: schemas.EndpointPatch, principal: WebhooksWrite, session: SessionDep
) -> schemas.EndpointOut:
    return _out(
        await service.update_endpoint(
            session, organization_id=principal.organization_id, endpoint_id=endpoint_id, body=body
        )
    )


@router.delete(
    "/webhook-endpoints/{endpoint_id}",
    response_model=schemas.EndpointOut,
    responses=_WRITE_ERRORS,
    summary="Delete a webhook endpoint (answers it as it was; its pending deliveries are abandoned)",
)
async def delete_webhook_endpoint(
    endpoint_id: str, principal: WebhooksWrite, session: SessionDep
) -> schemas.EndpointOut:
    return _out(
        await service.delete_endpoint(
            session, organization_id=principal.organization_id, endpoint_id=endpoint_id
        )
    )


@router.post(
    "/webhook-endpoints/{endpoint_id}/rotate-secret",
    response_model=schemas.SigningSecretOut,
    responses=merge_responses(replayable(), _WRITE_ERRORS),
    summary="Rotate the signing secret (both sign for 24 h)",
)
async def rotate_webhook_secret(
    endpoint_id: str, principal: WebhooksWrite, session: SessionDep, idempotent: IdempotentDep
) -> Response:
    async def work() -> schemas.SigningSecretOut:
        secret = await service.rotate_secret(
            session, organization_id=principal.organization_id, endpoint_id=endpoint_id
        )
        return schemas.SigningSecretOut(signing_secret=secret)

    return await idempotent.run(principal, work)


@router.post(
    "/webhook-endpoints/{endpoint_id}/test",
    response_model=schemas.DeliveryOut,
    status_code=202,
    responses=merge_responses(replayable(202), _WRITE_ERRORS),
    summary="Queue a test.ping event to this endpoint only",
)
async def test_webhook_endpoint(
    endpoint_id: str, principal: WebhooksWrite, session: SessionDep, idempotent: IdempotentDep
) -> Response:
    async def work() -> schemas.DeliveryOut:
        delivery = await service.send_test(
            session, organization_id=principal.organization_id, endpoint_id=endpoint_id
        )
        return schemas.DeliveryOut.model_validate(delivery)

    return await idempotent.run(principal, work, status_code=202)


@router.get(
    "/webhook-endpoints/{endpoint_id}/deliveries",
    response_model=schemas.DeliveryPage,
    responses=_READ_ERRORS,
    summary="An endpoint's deliveries, newest first (filters, keyset cursor)",
)
async def list_webhook_deliveries(
    endpoint_id: str,
    principal: WebhooksRead,
    session: SessionDep,
    status: Annotated[schemas.DeliveryStatus | None, Query()] = None,
    event_type: Annotated[StorableStr | None, Query(alias="eventType", max_length=100)] = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> schemas.DeliveryPage:
    items, next_cursor = await service.list_deliveries(
        session,
        organization_id=principal.organization_id,
        endpoint_id=endpoint_id,
        filters=DeliveryFilters(status=status, event_type=event_type),
        cursor=cursor,
        limit=limit,
    )
    return schemas.DeliveryPage(
        items=[schemas.DeliveryOut.model_validate(item) for item in items], next_cursor=next_cursor
    )


@router.post(
    "/webhook-deliveries/{delivery_id}/replay",
    response_model=schemas.DeliveryOut,
    status_code=202,
    responses=merge_responses(replayable(202), _WRITE_ERRORS),
    summary="Send a delivery's data again as a new event (replayOf = the original event id)",
)
async def replay_webhook_delivery(
    delivery_id: str, principal: WebhooksWrite, session: SessionDep, idempotent: IdempotentDep
) -> Response:
    async def work() -> schemas.DeliveryOut:
        delivery = await service.replay_delivery(
            session, organization_id=principal.organization_id, delivery_id=delivery_id
        )
        return schemas.DeliveryOut.model_validate(delivery)

    return await idempotent.run(principal, work, status_code=202)
