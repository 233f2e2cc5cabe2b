"""Typed answers (and the request shapes partners build), snake_case in Python, camelCase on the wire.

Answers accept fields this SDK does not know yet (`extra="allow"`): a newer Crier never breaks an older
SDK. Request shapes refuse unknown fields, as Crier does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

Mode = Literal["publish", "draft", "managed"]
Platform = Literal["tiktok", "instagram"]
PostStatus = Literal[
    "blocked_on_approval", "scheduled", "publishing", "published", "draft", "failed", "canceled"
]


class CrierModel(BaseModel):
    """An answer from Crier."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class RequestModel(BaseModel):
    """A body sent to Crier: serialized by alias, unset fields left out."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# ---------------------------------------------------------------------------------------------
# Requests


class TiktokPostSettings(RequestModel):
    privacy_level: (
        Literal["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"] | None
    ) = None
    disable_comment: bool | None = None
    disable_duet: bool | None = None
    disable_stitch: bool | None = None
    is_brand_organic: bool | None = None
    is_branded_content: bool | None = None


class TiktokMusic(RequestModel):
    mode: Literal["none", "auto", "manual"]
    track_id: str | None = None


class Target(RequestModel):
    """One publish/schedule target (seeds/layers-publish-content.md, "Target")."""

    social_account_id: str
    mode: Mode
    caption_override: str | None = None
    first_comment_override: str | None = None
    tiktok_post_settings: TiktokPostSettings | None = None
    tiktok_music: TiktokMusic | None = None
    share_reel_to_feed: bool | None = None
    scheduled_post_id: str | None = None


class Media(RequestModel):
    url: str


# ---------------------------------------------------------------------------------------------
# Content and approval


class PendingScheduleTarget(CrierModel):
    scheduled_post_id: str
    social_account_id: str
    mode: Mode


class PendingSchedule(CrierModel):
    scheduled_for: datetime
    targets: list[PendingScheduleTarget]


class ContentContainer(CrierModel):
    id: str
    project_id: str
    status: Literal["generating", "completed"]
    approval_status: Literal["pending", "approved", "rejected"]
    media_type: Literal["image", "video", "multi"]
    media: list[dict[str, Any]]
    caption: str | None = None
    first_comment: str | None = None
    approved_at: datetime | None = None
    approved_by: str | None = None
    approval_note: str | None = None
    rejected_at: datetime | None = None
    rejection_reason: str | None = None
    pending_schedule: PendingSchedule | None = None
    created_at: datetime
    updated_at: datetime


class PendingSchedulePromotion(CrierModel):
    status: Literal["ok", "failed"]
    scheduled_post_ids: list[str] | None = None
    details: dict[str, Any] | None = None


class Approval(CrierModel):
    id: str
    approval_status: Literal["approved"]
    approved_at: datetime
    approved_by: str
    approval_note: str | None = None
    pending_schedule_promotion: PendingSchedulePromotion | None = None


class Rejection(CrierModel):
    id: str
    approval_status: Literal["rejected"]
    rejected_at: datetime
    rejected_by: str
    rejection_reason: str | None = None
    canceled_scheduled_post_ids: list[str] = Field(default_factory=list)


class ApprovalPolicy(CrierModel):
    project_id: str
    requires_approval: bool
    first_n_posts_blocked: int | None
    current_blocked_count: int
    gate_open: bool


# ---------------------------------------------------------------------------------------------
# Publishing and scheduled posts


class PublishResult(CrierModel):
    scheduled_post_ids: list[str]


class ScheduleResult(CrierModel):
    scheduled_post_ids: list[str]
    gate_status: Literal["queued", "blocked_on_approval"]
    scheduled_for: datetime


class PostError(CrierModel):
    code: str
    message: str
    platform: str | None = None


class ScheduledPost(CrierModel):
    id: str
    container_id: str
    project_id: str
    social_account_id: str
    platform: Platform
    mode: Mode
    status: PostStatus
    scheduled_for: datetime
    attempted_at: datetime | None = None
    published_at: datetime | None = None
    canceled_at: datetime | None = None
    external_id: str | None = None
    external_url: str | None = None
    last_error: PostError | None = None
    created_at: datetime
    updated_at: datetime
    caption_override: str | None = None
    first_comment_override: str | None = None
    tiktok_post_settings: dict[str, Any] | None = None
    tiktok_music: dict[str, Any] | None = None
    share_reel_to_feed: bool | None = None


class Attempt(CrierModel):
    """One delivery attempt (`GET /v1/scheduled-posts/{id}/attempts`, a Crier extension)."""

    number: int
    started_at: datetime
    ended_at: datetime | None = None
    step: str
    outcome: str
    error: PostError | None = None


class AttemptList(CrierModel):
    items: list[Attempt]


class Problem(CrierModel):
    code: str
    message: str
    field: str | None = None


class TargetReport(CrierModel):
    social_account_id: str
    problems: list[Problem]


class Validation(CrierModel):
    """What `POST /v1/content/{id}/validate` found, per target (nothing is written)."""

    ok: bool
    targets: list[TargetReport]


class QuotaLimit(CrierModel):
    name: str
    window: int
    limit: int | None = None
    used: int
    resets_at: datetime | None = None
    source: str


class Quota(CrierModel):
    platform: Platform
    limits: list[QuotaLimit]


ItemT = TypeVar("ItemT")


class Page(CrierModel, Generic[ItemT]):
    """One keyset page: pass `next_cursor` back as `cursor` (None on the last page)."""

    items: list[ItemT]
    next_cursor: str | None = None


# ---------------------------------------------------------------------------------------------
# Accounts and catalog


class Readiness(CrierModel):
    publish: bool
    draft: bool
    managed: bool


class SocialAccount(CrierModel):
    """An account as `GET /v1/social-accounts` and ACCOUNTS.md's project listing answer it."""

    id: str
    platform: Platform
    handle: str
    status: str
    readiness: Readiness
    project_id: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    instagram_account_type: str | None = None
    layer_id: str | None = None
    granted_scopes: list[str] = Field(default_factory=list)
    token_expires_at: datetime | None = None
    connected_at: datetime | None = None


class SocialAccountList(CrierModel):
    items: list[SocialAccount]


class MusicTrack(CrierModel):
    id: str
    title: str
    artist: str


class MusicCatalog(CrierModel):
    items: list[MusicTrack]


class OAuthUrl(CrierModel):
    authorize_url: str
    state: str
    expires_at: datetime


class OAuthError(CrierModel):
    code: str
    message: str


class OAuthStatus(CrierModel):
    status: Literal["pending", "completed", "failed"]
    platform: Platform
    social_account_id: str | None = None
    error: OAuthError | None = None


class MissingScopes(CrierModel):
    publish: list[str] = Field(default_factory=list)
    draft: list[str] = Field(default_factory=list)


class AccountHealth(CrierModel):
    status: Literal["connected", "reauth_required", "revoked"]
    token_expires_at: datetime | None = None
    refresh_token_expires_at: datetime | None = None
    last_refresh_at: datetime | None = None
    last_refresh_error: Any = None
    granted_scopes: list[str] = Field(default_factory=list)
    missing_scopes: MissingScopes = Field(default_factory=MissingScopes)


# ---------------------------------------------------------------------------------------------
# Webhooks


WebhookEventType = Literal[
    "post.scheduled",
    "post.published",
    "post.draft",
    "post.failed",
    "post.canceled",
    "post.deferred",
    "content.approved",
    "content.rejected",
    "social_account.needs_reauth",
    "test.ping",
]


class WebhookEndpoint(CrierModel):
    id: str
    url: str
    events: list[str]
    description: str | None = None
    project_id: str | None = None
    metadata: dict[str, Any] | None = None
    status: Literal["active", "paused", "auto_paused"]
    consecutive_failures: int = 0
    created_at: datetime
    updated_at: datetime


class WebhookEndpointCreated(CrierModel):
    """The endpoint and its signing secret, shown this once."""

    endpoint: WebhookEndpoint
    signing_secret: str


class SigningSecret(CrierModel):
    signing_secret: str


class WebhookDelivery(CrierModel):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: Literal["pending", "delivering", "delivered", "failed", "abandoned"]
    attempts: int
    next_retry_at: datetime | None = None
    delivered_at: datetime | None = None
    abandoned_at: datetime | None = None
    last_response_status: int | None = None
    last_response_at: datetime | None = None
    last_error_message: str | None = None
    created_at: datetime


class WebhookEvent(CrierModel):
    """The body Crier POSTs to a webhook endpoint (WEBHOOKS.md §2)."""

    id: str
    type: str
    created_at: datetime
    organization_id: str
    project_id: str | None = None
    data: dict[str, Any]
    replay_of: str | None = None
