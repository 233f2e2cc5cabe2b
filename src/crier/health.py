"""Liveness and readiness probes for the orchestrator (no auth, no tenant data)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from crier.core.db import get_engine
from crier.core.errors import Unavailable

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: PostgreSQL answers")
async def readyz() -> dict[str, str]:
    try:
        async with get_engine().connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready", with the envelope's 503
        raise Unavailable("PostgreSQL is not reachable.") from exc
    return {"status": "ready"}
