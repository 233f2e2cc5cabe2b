"""All ORM models, imported together so metadata is complete for Alembic and the app."""

from crier.models.accounts import ACCOUNT_STATUSES, OAuthState, SocialAccount, TiktokMusicTrack
from crier.models.base import Base
from crier.models.content import ContentContainer
from crier.models.delivery_records import AccountQuota, DeliveryAttempt, PlatformCallSlot
from crier.models.idempotency import IdempotencyKey
from crier.models.scheduled_post import ScheduledPost
from crier.models.tenancy import ApiKey, Layer, Organization, Project
from crier.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent
from crier.models.workers import WorkerHeartbeat

__all__ = [
    "ACCOUNT_STATUSES",
    "AccountQuota",
    "ApiKey",
    "Base",
    "ContentContainer",
    "DeliveryAttempt",
    "IdempotencyKey",
    "Layer",
    "OAuthState",
    "Organization",
    "PlatformCallSlot",
    "Project",
    "ScheduledPost",
    "SocialAccount",
    "TiktokMusicTrack",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WorkerHeartbeat",
]
