"""Preflight answers (a Crier extension)."""

from __future__ import annotations

from crier.core.schemas import ResponseModel


class ProblemOut(ResponseModel):
    code: str
    message: str
    field: str | None = None


class TargetReport(ResponseModel):
    social_account_id: str
    problems: list[ProblemOut]


class ValidateOut(ResponseModel):
    ok: bool
    targets: list[TargetReport]
