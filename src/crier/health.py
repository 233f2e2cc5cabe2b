"""Liveness and readiness probes for the orchestrator (no auth, no tenant data)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from crier.core.db import get_engine
from crier.core.errors import Unavailable

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: Literal["ok"]


class ReadinessProbe(BaseModel):
    status: Literal["ready"]


@router.get("/healthz", summary="Liveness", response_model=Liveness)
async def healthz() -> Liveness:
    return Liveness(status="ok")


@router.get("/readyz", summary="Readiness: PostgreSQL answers", response_model=ReadinessProbe)
async def readyz() -> ReadinessProbe:
    try:
        async with get_engine().connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready", with the envelope's 503
        raise Unavailable("PostgreSQL is not reachable.") from exc
    return ReadinessProbe(status="ready")
