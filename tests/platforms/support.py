"""A tiny in-memory journal, job factories and settings for the adapter tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from crier.core.settings import Settings
from crier.platforms.base import (
    AccountCredentials,
    DeliveryJob,
    ManagedProvider,
    Outcome,
    OutcomeKind,
    QuotaState,
)

TIKTOK_BASE = "https://tiktok.test"
GRAPH_BASE = "https://graph.test/v25.0"
IG_REFRESH_BASE = "https://iglogin.test"
TWILIO_BASE = "https://twilio.test"
MANAGED_BASE = "https://managed.test"
IG_USER = "17841400000000001"


class FakeLedger:
    """An account ledger in memory: every call may go at once unless a test scripts waits."""

    def __init__(self) -> None:
        self.waits: dict[str, list[float]] = {}  # call → the waits pace() answers, in order
        self.paced: list[str] = []
        self.sent_log: list[str] = []
        self.quotas: dict[str, QuotaState] = {}

    async def pace(
        self,
        call: str,
        *,
        limit: int,
        window_seconds: float,
        may_wait_seconds: float,
        take: bool = True,
        late_seconds: float = 0.0,
    ) -> float:
        self.paced.append(call if take else f"look:{call}")
        waits = self.waits.get(call)
        return waits.pop(0) if waits else 0.0

    async def log_sent(self, call: str) -> None:
        self.sent_log.append(call)

    async def sent(self, call: str, *, window_seconds: float) -> tuple[int, float | None]:
        count = self.sent_log.count(call)
        return count, (window_seconds if count else None)

    async def quota(self, name: str) -> QuotaState | None:
        return self.quotas.get(name)

    async def save_quota(
        self,
        name: str,
        *,
        limit: int | None,
        used: int,
        window_seconds: float,
        source: str,
        resets_in_seconds: float | None = None,
    ) -> None:
        self.quotas[name] = QuotaState(
            limit=limit,
            used=used,
            window_seconds=window_seconds,
            source=source,
            age_seconds=0.0,
            resets_in_seconds=resets_in_seconds,
        )

    async def count(self, name: str) -> None:
        if name in self.quotas:
            self.quotas[name] = replace(self.quotas[name], used=self.quotas[name].used + 1)


class FakeJournal:
    """Records what an adapter journals, in order, the way the real journal would persist it."""

    def __init__(self, **handles: Any) -> None:
        self.ledger = FakeLedger()
        self.handles: dict[str, Any] = dict(handles)
        self.writes: list[dict[str, Any]] = []
        self.tokens: list[dict[str, Any]] = []
        self.disconnected: str | None = None

    async def record(self, **handles: Any) -> None:
        self.writes.append(dict(handles))
        self.handles.update(handles)

    async def save_tokens(
        self,
        *,
        access_token: str,
        refresh_token: str | None,
        token_expires_at: datetime | None,
        refresh_token_expires_at: datetime | None = None,
    ) -> None:
        self.tokens.append(
            {
                "access_token": access_token,
                "refresh_token": refresh_token,
                "token_expires_at": token_expires_at,
                "refresh_token_expires_at": refresh_token_expires_at,
            }
        )

    async def disconnect_account(self, reason: str) -> None:
        self.disconnected = reason


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "tiktok_api_base": TIKTOK_BASE,
        "tiktok_client_key": "ck",
        "tiktok_client_secret": "cs-secret",
        "instagram_api_base": GRAPH_BASE,
        "instagram_refresh_base": IG_REFRESH_BASE,
        "twilio_api_base": TWILIO_BASE,
        "twilio_account_sid": "AC123",
        "twilio_auth_token": "tw-secret",
        "twilio_from_number": "+15550000000",
        "platform_timeout_seconds": 2.0,
        "url_allowlist": ["managed.test"],
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def account(platform: str = "tiktok", **overrides: Any) -> AccountCredentials:
    values: dict[str, Any] = {
        "social_account_id": "sa_1",
        "platform": platform,
        "handle": "creator",
        "external_account_id": IG_USER if platform == "instagram" else "open-1",
        "access_token": "at-old",
        "refresh_token": "rt-old",
        # TikTok access tokens live hours; Instagram's live 60 days (a fresh one is not refreshed).
        "token_expires_at": datetime.now(UTC)
        + (timedelta(days=60) if platform == "instagram" else timedelta(hours=6)),
        "granted_scopes": ["video.publish"],
        "instagram_account_type": "business" if platform == "instagram" else None,
    }
    values.update(overrides)
    return AccountCredentials(**values)


def job(
    platform: str = "tiktok", mode: str = "publish", media_type: str = "video", **overrides: Any
) -> DeliveryJob:
    media = {
        "video": ["https://cdn.test/v.mp4"],
        "image": ["https://cdn.test/a.jpg"],
        "multi": ["https://cdn.test/a.jpg", "https://cdn.test/b.jpg"],
    }[media_type]
    values: dict[str, Any] = {
        "post_id": "sp_11111111-1111-4111-8111-111111111111",
        "platform": platform,
        "mode": mode,
        "media_type": media_type,
        "media_urls": media,
        "caption": "Hello world #crier",
        "first_comment": None,
        "tiktok_post_settings": {},
        "tiktok_music": None,
        "share_reel_to_feed": None,
        "account": account(platform),
        "managed_provider": ManagedProvider("acme", MANAGED_BASE, "whsec") if mode == "managed" else None,
    }
    values.update(overrides)
    return DeliveryJob(**values)


def with_account(base: DeliveryJob, **overrides: Any) -> DeliveryJob:
    return replace(base, account=replace(base.account, **overrides))


def assert_kind(outcome: Outcome, kind: OutcomeKind, code: str | None = None) -> None:
    assert outcome.kind is kind, outcome
    if code is not None:
        assert outcome.error is not None and outcome.error.code == code, outcome


async def drive(
    adapter: Any, delivery: DeliveryJob, journal: FakeJournal, *, calls: int = 60, pause: float = 0.02
) -> list[Outcome]:
    """Call advance() like the runner does until the outcome is final; return every outcome."""
    import asyncio

    outcomes: list[Outcome] = []
    for _ in range(calls):
        outcome = await adapter.advance(delivery, journal)
        outcomes.append(outcome)
        if outcome.kind in (OutcomeKind.DONE, OutcomeKind.TERMINAL):
            return outcomes
        await asyncio.sleep(pause)
    raise AssertionError(f"never settled: {outcomes[-3:]}")
