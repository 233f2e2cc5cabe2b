"""Delivery fixtures: scheduled-post rows written straight to PostgreSQL, and a scripted fake adapter."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest

from crier.core.clock import utcnow
from crier.core.ids import new_id
from crier.core.settings import Settings, get_settings
from crier.platforms.base import DeliveryJob, Outcome, PlatformError


def tuned(**changes: Any) -> Settings:
    """The test settings with delivery knobs changed (get_settings() stays untouched)."""
    return get_settings().model_copy(update=changes)


def published(post_id: str = "7301") -> Outcome:
    return Outcome.published(post_id, f"https://www.tiktok.com/@creator/video/{post_id}")


def retryable(code: str = "RATE_LIMITED", retry_after: float | None = None) -> Outcome:
    return Outcome.retryable(PlatformError(code, "try later", "tiktok"), retry_after=retry_after)


def terminal(code: str = "SPAM_RISK") -> Outcome:
    return Outcome.terminal(PlatformError(code, "TikTok refused the post.", "tiktok"))


@dataclass
class Call:
    job: DeliveryJob
    handles: dict[str, Any]


@dataclass
class FakeAdapter:
    """Plays `steps` in order (the last one repeats). A step is an Outcome, an exception to raise, or a
    (possibly async) callable(job, journal) returning an Outcome."""

    steps: list[Any]
    calls: list[Call] = field(default_factory=list)

    async def advance(self, job, journal) -> Outcome:
        self.calls.append(Call(job, dict(journal.handles)))
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, BaseException):
            raise step
        if callable(step):
            result = step(job, journal)
            return await result if inspect.isawaitable(result) else result
        return step

    def factory(self, job, *, http, settings) -> FakeAdapter:
        return self


@pytest.fixture
def fake() -> Callable[..., FakeAdapter]:
    return lambda *steps: FakeAdapter(list(steps))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=2) as client:
        yield client


@pytest.fixture
def make_post(session, tenant):
    """Insert a due scheduled post for the tenant's TikTok (or Instagram) account; returns its id."""
    from crier.models import ScheduledPost

    async def make(
        *,
        platform: str = "tiktok",
        mode: str = "publish",
        status: str = "scheduled",
        due_in: float = -1.0,
        media_type: str = "video",
        caption: str = "Hello",
        account_id: str | None = None,
        **fields: Any,
    ) -> str:
        container = await tenant.content(media_type=media_type, caption=caption)
        now = utcnow()
        post = ScheduledPost(
            id=new_id("sp"),
            organization_id=tenant.organization["id"],
            project_id=tenant.project["id"],
            container_id=container["id"],
            platform=platform,
            mode=mode,
            status=status,
            social_account_id=account_id or getattr(tenant, platform)["id"],
            scheduled_for=now,
            due_at=now + timedelta(seconds=due_in),
            request_id=f"req_{new_id('sp')[3:11]}",
            **fields,
        )
        session.add(post)
        await session.commit()
        return post.id

    return make


async def fetch(post_id: str):
    """The post as PostgreSQL holds it now."""
    from crier.core.db import get_sessionmaker
    from crier.models import ScheduledPost

    async with get_sessionmaker()() as db:
        return await db.get(ScheduledPost, post_id)


async def claim_one(*, lease_seconds: float = 60.0):
    """Claim the single due post (asserting there is exactly one)."""
    from crier.delivery import repository

    async with repository.transaction() as db:
        claims = await repository.claim_due_posts(db, limit=10, lease_seconds=lease_seconds)
    assert len(claims) == 1, claims
    return claims[0]


async def make_due(post_id: str) -> None:
    """Pretend the post's next step (or lease end) is due now."""
    from sqlalchemy import text

    from crier.delivery import repository

    async with repository.transaction() as db:
        await db.execute(
            text("UPDATE scheduled_posts SET due_at = now() - interval '1 second' WHERE id = :id"),
            {"id": post_id},
        )
