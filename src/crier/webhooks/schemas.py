"""Webhook endpoints and deliveries on the wire (WEBHOOKS.md §1)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from crier.core.schemas import ResponseModel, WireModel, WireTime

EndpointStatus = Literal["active", "paused", "auto_paused"]
SettableStatus = Literal["active", "paused"]
DeliveryStatus = Literal["pending", "delivering", "delivered", "failed", "abandoned"]

Url = Field(
    min_length=1, max_length=2048, description="https:// (http:// and private hosts only when allow-listed)"
)
Events = Field(min_length=1, max_length=50, description="Event types to receive (see the event catalog).")


class EndpointIn(WireModel):
    url: str = Url
    events: list[str] = Events
    description: str | None = Field(default=None, max_length=500)
    project_id: str | None = Field(default=None, description="Only this project's events.")
    metadata: dict[str, Any] | None = None


class EndpointPatch(WireModel):
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    events: list[str] | None = Field(default=None, min_length=1, max_length=50)
    description: str | None = Field(default=None, max_length=500)
    metadata: dict[str, Any] | None = None
    status: SettableStatus | None = Field(
        default=None,
        description="`active` re-activates a paused or auto-paused endpoint (pending events go out).",
    )


class EndpointOut(ResponseModel):
    id: str
    url: str
    events: list[str]
    description: str | None
    project_id: str | None
    metadata: dict[str, Any] | None = Field(validation_alias="endpoint_metadata")
    status: EndpointStatus
    consecutive_failures: int
    created_at: WireTime
    updated_at: WireTime


class EndpointCreated(ResponseModel):
    endpoint: EndpointOut
    signing_secret: str = Field(description="Shown once: store it to verify X-Layers-Signature.")


class SigningSecretOut(ResponseModel):
    signing_secret: str = Field(description="The new secret; the previous one keeps signing for 24 h.")


class EndpointPage(ResponseModel):
    items: list[EndpointOut]
    next_cursor: str | None


class DeliveryOut(ResponseModel):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_retry_at: WireTime | None
    delivered_at: WireTime | None
    abandoned_at: WireTime | None
    last_response_status: int | None
    last_response_at: WireTime | None
    last_error_message: str | None
    created_at: WireTime


class DeliveryPage(ResponseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
