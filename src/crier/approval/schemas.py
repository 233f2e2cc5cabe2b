"""Approval bodies and answers (seeds/layers-approve-content.md, CONTRACT §5)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from crier.core.schemas import ResponseModel, WireModel, WireTime


class ApproveIn(WireModel):
    note: str | None = Field(default=None, max_length=1024)


class RejectIn(WireModel):
    reason: str | None = Field(default=None, max_length=1024)


class PendingSchedulePromotion(ResponseModel):
    status: Literal["ok", "failed"]
    scheduled_post_ids: list[str] | None = Field(default=None, exclude_if=lambda value: value is None)
    details: dict[str, Any] | None = Field(default=None, exclude_if=lambda value: value is None)


class ApprovalOut(ResponseModel):
    id: str
    approval_status: Literal["approved"]
    approved_at: WireTime
    approved_by: str
    approval_note: str | None
    pending_schedule_promotion: PendingSchedulePromotion | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Present when targets were stashed by /schedule before approval.",
    )


class RejectionOut(ResponseModel):
    id: str
    approval_status: Literal["rejected"]
    rejected_at: WireTime
    rejected_by: str
    rejection_reason: str | None
    canceled_scheduled_post_ids: list[str] = Field(description="The stashed targets, now canceled.")


class ApprovalPolicyOut(ResponseModel):
    project_id: str
    requires_approval: bool
    first_n_posts_blocked: int | None
    current_blocked_count: int
    gate_open: bool = Field(description="True when containers of this project publish without approval.")
