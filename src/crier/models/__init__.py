"""All ORM models, imported together so metadata is complete for Alembic and the app."""

from crier.models.accounts import SocialAccount, TiktokMusicTrack
from crier.models.base import Base
from crier.models.content import ContentContainer
from crier.models.idempotency import IdempotencyKey
from crier.models.publishing import POST_STATUSES, TERMINAL_STATUSES, ScheduledPost
from crier.models.tenancy import ApiKey, Layer, Organization, Project
from crier.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "POST_STATUSES",
    "TERMINAL_STATUSES",
    "ApiKey",
    "Base",
    "ContentContainer",
    "IdempotencyKey",
    "Layer",
    "Organization",
    "Project",
    "ScheduledPost",
    "SocialAccount",
    "TiktokMusicTrack",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
