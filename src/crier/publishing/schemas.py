"""Publish and schedule bodies and answers (seeds/layers-publish-content.md, CONTRACT §4)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, field_validator, model_validator

from crier.core.ids import is_valid_id
from crier.core.schemas import ResponseModel, UtcDateTime, WireMode, WireModel, WireTime

MAX_TARGETS = 50


class TiktokPostSettings(WireModel):
    privacy_level: (
        Literal["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"] | None
    ) = None
    disable_comment: StrictBool | None = None
    disable_duet: StrictBool | None = None
    disable_stitch: StrictBool | None = None
    is_brand_organic: StrictBool | None = None
    is_branded_content: StrictBool | None = None


class TiktokMusic(WireModel):
    mode: Literal["none", "auto", "manual"]
    track_id: str | None = Field(default=None, min_length=1, max_length=255)

    @model_validator(mode="after")
    def _manual_needs_a_track(self) -> TiktokMusic:
        if self.mode == "manual" and self.track_id is None:
            raise ValueError("trackId is required when mode is 'manual'")
        return self


class Target(WireModel):
    social_account_id: str = Field(max_length=255)
    mode: WireMode
    caption_override: str | None = Field(default=None, max_length=4000)
    first_comment_override: str | None = Field(default=None, max_length=4000)
    tiktok_post_settings: TiktokPostSettings | None = None
    tiktok_music: TiktokMusic | None = None
    share_reel_to_feed: StrictBool | None = None
    scheduled_post_id: str | None = Field(
        default=None,
        description="Optional partner-chosen id, `sp_<uuid>`.",
        # Documented only: the validator below gives partners the friendlier message.
        json_schema_extra={"pattern": "^sp_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"},
    )

    @field_validator("scheduled_post_id")
    @classmethod
    def _prefixed_uuid(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_id(value, "sp"):
            raise ValueError("scheduledPostId must look like sp_<uuid>")
        return value


Targets = Annotated[list[Target], Field(min_length=1, max_length=MAX_TARGETS)]


class PublishIn(WireModel):
    targets: Targets


class ScheduleIn(WireModel):
    targets: Targets
    scheduled_for: UtcDateTime = Field(description="RFC 3339 with an offset, in the future.")


class PublishOut(ResponseModel):
    scheduled_post_ids: list[str]


class ScheduleOut(ResponseModel):
    scheduled_post_ids: list[str]
    gate_status: Literal["queued", "blocked_on_approval"]
    scheduled_for: WireTime
