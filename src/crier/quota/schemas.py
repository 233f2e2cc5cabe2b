"""Quota answers (a Crier extension): GET /v1/social-accounts/{id}/quota."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from crier.core.schemas import ResponseModel, WirePlatform, WireTime

LimitSource = Literal["platform", "learned", "documented"]


class LimitOut(ResponseModel):
    name: str = Field(
        description="e.g. `tiktok.init`, `tiktok.direct_posts`, `instagram.content_publishing`."
    )
    window: int = Field(description="Seconds the limit counts over.")
    limit: int | None = Field(
        description="null while the platform has not said (caps TikTok does not publish)."
    )
    used: int
    resets_at: WireTime | None
    source: LimitSource


class QuotaOut(ResponseModel):
    platform: WirePlatform
    limits: list[LimitOut]
