"""Scheduled post answers (CONTRACT §7)."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from crier.core.schemas import ResponseModel, WireMode, WirePlatform, WirePostStatus, WireTime
from crier.core.vocabulary import PostStatus


class ScheduledPostOut(ResponseModel):
    id: str
    container_id: str
    project_id: str
    social_account_id: str
    platform: WirePlatform
    mode: WireMode
    status: WirePostStatus
    scheduled_for: WireTime
    attempted_at: WireTime | None
    published_at: WireTime | None
    canceled_at: WireTime | None
    external_id: str | None
    external_url: str | None
    last_error: dict[str, Any] | None = Field(description="{code, message, platform} when delivery failed.")
    deferred_until: WireTime | None = Field(
        default=None,
        description="Crier extension: a `scheduled` post held back by a platform limit goes out "
        "then (lastError.code QUOTA_DEFERRED).",
    )
    created_at: WireTime
    updated_at: WireTime
    caption_override: str | None
    first_comment_override: str | None
    tiktok_post_settings: dict[str, Any] | None
    tiktok_music: dict[str, Any] | None
    share_reel_to_feed: bool | None

    @model_validator(mode="after")
    def _deferral_shows_while_waiting(self) -> ScheduledPostOut:
        # The column keeps the last deferral; once the post went out again it is history, not state.
        if self.status != PostStatus.SCHEDULED:
            self.deferred_until = None
        return self


class ScheduledPostPage(ResponseModel):
    items: list[ScheduledPostOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class Filters(BaseModel):
    """The listing's optional filters, as the repository applies them."""

    status: WirePostStatus | None = None
    platform: WirePlatform | None = None
    mode: WireMode | None = None
    container_id: str | None = None
    social_account_id: str | None = None
    scheduled_from: AwareDatetime | None = None
    scheduled_to: AwareDatetime | None = None
    q: str | None = None
