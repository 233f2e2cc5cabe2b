"""Webhook endpoints as partners manage them, the deliveries log, test pings and replays (WEBHOOKS.md §1)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from crier.core import crypto
from crier.core.clock import utcnow
from crier.core.errors import NotFound, Validation, validation_error
from crier.core.ids import is_valid_id, new_id
from crier.core.settings import get_settings
from crier.core.urls import url_problem
from crier.models import WebhookDelivery, WebhookEndpoint
from crier.tenancy.ownership import OrganizationId, owned_or_404
from crier.tenancy.projects import get_project
from crier.webhooks import repository
from crier.webhooks.events import EVENT_TYPES, TEST_EVENT
from crier.webhooks.repository import DeliveryFilters
from crier.webhooks.schemas import EndpointIn, EndpointPatch
from crier.webhooks.signing import new_secret

ROTATION_OVERLAP = timedelta(hours=24)


def _field_error(path: str, field: str, message: str) -> Validation:
    return Validation(message, details={"errors": [{"path": path, "field": field, "message": message}]})


def check_events(events: list[str]) -> list[str]:
    """422 VALIDATION naming every unknown event (`field: events[i]`); duplicates are dropped."""
    errors = [
        {
            "path": f"body.events.{index}",
            "field": f"events[{index}]",
            "message": f"unknown event type '{name}'",
        }
        for index, name in enumerate(events)
        if name not in EVENT_TYPES
    ]
    if errors:
        raise Validation("Unknown event types.", details={"errors": errors, "eventTypes": list(EVENT_TYPES)})
    return list(dict.fromkeys(events))


def check_url(url: str) -> str:
    """https:// and the media SSRF rules; an allow-listed host may be private and use http://."""
    problem = url_problem(url, allowlist=get_settings().url_allowlist)
    if problem is not None:
        raise _field_error("body.url", "url", f"url {problem}")
    return url


async def create_endpoint(
    session: AsyncSession, *, organization_id: OrganizationId, body: EndpointIn
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (the only time the secret is answered)."""
    events = check_events(body.events)
    check_url(body.url)
    if body.project_id is not None:
        await get_project(session, organization_id=organization_id, project_id=body.project_id)
    secret = new_secret()
    endpoint = WebhookEndpoint(
        id=new_id("whe"),
        organization_id=organization_id,
        project_id=body.project_id,
        url=body.url,
        events=events,
        description=body.description,
        endpoint_metadata=body.metadata,
        status="active",
        consecutive_failures=0,
        secret_encrypted=crypto.encrypt(secret),
    )
    return await repository.add_endpoint(session, endpoint), secret


async def get_endpoint(
    session: AsyncSession, *, organization_id: str, endpoint_id: str, for_update: bool = False
) -> WebhookEndpoint:
    """The endpoint if it belongs to the organization; 404 otherwise (malformed ids included)."""
    return await owned_or_404(
        lambda: repository.find_endpoint(
            session, organization_id=organization_id, endpoint_id=endpoint_id, for_update=for_update
        ),
        object_id=endpoint_id,
        prefix="whe",
        not_found=NotFound("Webhook endpoint not found."),
    )


async def list_endpoints(
    session: AsyncSession, *, organization_id: str, cursor: str | None, limit: int
) -> tuple[list[WebhookEndpoint], str | None]:
    after = decode_cursor(cursor, "whe") if cursor is not None else None
    rows = await repository.page_endpoints(
        session, organization_id=organization_id, after=after, limit=limit + 1
    )
    return _page(rows, limit)


async def update_endpoint(
    session: AsyncSession, *, organization_id: str, endpoint_id: str, body: EndpointPatch
) -> WebhookEndpoint:
    """Change what was sent; `status: active` on a paused endpoint resets its failures and releases its queue."""
    endpoint = await get_endpoint(
        session, organization_id=organization_id, endpoint_id=endpoint_id, for_update=True
    )
    sent = body.model_fields_set
    for name in ("url", "events", "status"):
        if name in sent and getattr(body, name) is None:
            raise _field_error(f"body.{name}", name, f"{name} cannot be null")
    if "events" in sent:
        assert body.events is not None  # refused above
        endpoint.events = check_events(body.events)
    if "url" in sent:
        assert body.url is not None  # refused above
        endpoint.url = check_url(body.url)
    if "description" in sent:
        endpoint.description = body.description
    if "metadata" in sent:
        endpoint.endpoint_metadata = body.metadata
    if "status" in sent and body.status != endpoint.status:
        assert body.status is not None  # refused above
        if body.status == "active":
            endpoint.consecutive_failures = 0
            await repository.release_pending(session, endpoint_id=endpoint.id)
        endpoint.status = body.status
    endpoint.updated_at = utcnow()
    return await repository.save_endpoint(session, endpoint)


async def delete_endpoint(
    session: AsyncSession, *, organization_id: str, endpoint_id: str
) -> WebhookEndpoint:
    """Remove the endpoint, its pending deliveries abandoned (WEBHOOKS.md §1); returns it as it was."""
    endpoint = await get_endpoint(
        session, organization_id=organization_id, endpoint_id=endpoint_id, for_update=True
    )
    await repository.delete_endpoint(session, endpoint=endpoint)
    return endpoint


async def rotate_secret(session: AsyncSession, *, organization_id: str, endpoint_id: str) -> str:
    """A new secret; the current one keeps signing beside it for 24 h, an older one is forgotten now."""
    endpoint = await get_endpoint(
        session, organization_id=organization_id, endpoint_id=endpoint_id, for_update=True
    )
    secret = new_secret()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_expires_at = utcnow() + ROTATION_OVERLAP
    endpoint.secret_encrypted = crypto.encrypt(secret)
    endpoint.updated_at = utcnow()
    await repository.save_endpoint(session, endpoint)
    return secret


async def send_test(session: AsyncSession, *, organization_id: str, endpoint_id: str) -> WebhookDelivery:
    """Queue a `test.ping` to this endpoint only."""
    endpoint = await get_endpoint(session, organization_id=organization_id, endpoint_id=endpoint_id)
    delivery_id = await repository.insert_single_event(
        session,
        endpoint=endpoint,
        event_type=TEST_EVENT,
        data={"endpointId": endpoint.id},
        project_id=endpoint.project_id,
    )
    return await repository.get_delivery(session, delivery_id=delivery_id)


async def list_deliveries(
    session: AsyncSession,
    *,
    organization_id: str,
    endpoint_id: str,
    filters: DeliveryFilters,
    cursor: str | None,
    limit: int,
) -> tuple[list[WebhookDelivery], str | None]:
    """One page of the endpoint's deliveries, newest first, and the cursor of the next."""
    endpoint = await get_endpoint(session, organization_id=organization_id, endpoint_id=endpoint_id)
    before = decode_cursor(cursor, "whd") if cursor is not None else None
    rows = await repository.page_deliveries(
        session, endpoint_id=endpoint.id, filters=filters, before=before, limit=limit + 1
    )
    return _page(rows, limit)


async def replay_delivery(
    session: AsyncSession, *, organization_id: str, delivery_id: str
) -> WebhookDelivery:
    """The delivery's data again, as a new event (new id, `replayOf` = the original event id)."""
    delivery, event = await owned_or_404(
        lambda: repository.find_delivery(session, organization_id=organization_id, delivery_id=delivery_id),
        object_id=delivery_id,
        prefix="whd",
        not_found=NotFound("Webhook delivery not found."),
    )
    if delivery.endpoint_id is None:  # its endpoint was deleted: there is nowhere to send it
        raise NotFound("Webhook endpoint not found.")
    endpoint = await get_endpoint(session, organization_id=organization_id, endpoint_id=delivery.endpoint_id)
    original = json.loads(event.body)
    new_delivery_id = await repository.insert_single_event(
        session,
        endpoint=endpoint,
        event_type=event.type,
        data=original["data"],
        project_id=event.project_id,
        replay_of=event.id,
    )
    return await repository.get_delivery(session, delivery_id=new_delivery_id)


_Listed = TypeVar("_Listed", WebhookEndpoint, WebhookDelivery)


def _page(rows: list[_Listed], limit: int) -> tuple[list[_Listed], str | None]:
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(last.created_at, last.id)


def encode_cursor(created_at: datetime, row_id: str) -> str:
    """Opaque to partners: base64url of the last row's (createdAt, id) at full precision."""
    raw = json.dumps([created_at.isoformat(), row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, prefix: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, row_id = json.loads(raw)
        created_at = datetime.fromisoformat(when)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise validation_error("query.cursor", "cursor is not valid; pass nextCursor unchanged") from None
    if created_at.tzinfo is None or not isinstance(row_id, str) or not is_valid_id(row_id, prefix):
        raise validation_error("query.cursor", "cursor is not valid; pass nextCursor unchanged")
    return created_at, row_id
