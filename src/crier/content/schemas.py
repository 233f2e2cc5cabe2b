"""Content container bodies and answers (CONTRACT §8)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from crier.core.schemas import ResponseModel, WireModel, WireTime

MEDIA_COUNTS = {"image": (1, 1), "video": (1, 1), "multi": (2, 35)}


class MediaItem(WireModel):
    url: str = Field(min_length=1, max_length=2048)


class ContentIn(WireModel):
    project_id: str
    media_type: Literal["image", "video", "multi"]
    media: list[MediaItem] = Field(min_length=1, max_length=35)
    caption: str | None = Field(default=None, max_length=4000)
    first_comment: str | None = Field(default=None, max_length=4000)
    status: Literal["generating", "completed"] = "completed"


class ContentPatch(WireModel):
    # Optional but never null (the default is only "not given"): the document and the server agree.
    # So the None default lies outside the field's type, on purpose.
    status: Literal["generating", "completed"] = Field(default=None)  # type: ignore[arg-type]  # None: not given
    media: list[MediaItem] = Field(default=None, min_length=1, max_length=35)  # type: ignore[arg-type]  # None: not given
    caption: str | None = Field(default=None, max_length=4000)
    first_comment: str | None = Field(default=None, max_length=4000)


class PendingScheduleTarget(ResponseModel):
    scheduled_post_id: str
    social_account_id: str
    mode: str
    caption_override: str | None = None
    first_comment_override: str | None = None
    tiktok_post_settings: dict[str, Any] | None = None
    tiktok_music: dict[str, Any] | None = None
    share_reel_to_feed: bool | None = None


class PendingSchedule(ResponseModel):
    scheduled_for: WireTime
    targets: list[PendingScheduleTarget]


class ContentOut(ResponseModel):
    id: str
    project_id: str
    status: str
    approval_status: str
    media_type: str
    media: list[dict[str, Any]]
    caption: str | None
    first_comment: str | None
    approved_at: WireTime | None
    approved_by: str | None
    approval_note: str | None
    rejected_at: WireTime | None
    rejection_reason: str | None
    pending_schedule: PendingSchedule | None = None
    created_at: WireTime
    updated_at: WireTime
