"""Attempt answers (a Crier extension to CONTRACT §7)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from crier.core.schemas import ResponseModel, WireTime

AttemptOutcome = Literal["in_progress", "published", "draft", "failed", "retrying", "deferred"]


class AttemptOut(ResponseModel):
    number: int = Field(description="1 for the first attempt, counting every retry and deferral.")
    started_at: WireTime
    ended_at: WireTime | None = Field(description="null while the attempt is still going.")
    step: str = Field(description="The furthest step reached, e.g. `tiktok.init_accepted`, `reconciling`.")
    outcome: AttemptOutcome
    error: dict[str, Any] | None = Field(description="{code, message, platform} of the attempt's last error.")


class AttemptList(ResponseModel):
    items: list[AttemptOut]
