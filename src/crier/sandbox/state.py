"""The sandbox's memory: configuration, scripted faults, and a record of everything created."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from crier.sandbox.faults import Faults

# camelCase (as POST /_sandbox/config takes them) → SandboxConfig fields
CONFIG_KEYS = {
    "processingSeconds": "processing_seconds",
    "managedSecret": "managed_secret",
    "tokenPrefix": "token_prefix",
    "signatureToleranceSeconds": "signature_tolerance_seconds",
    "tiktokDailyPostLimit": "tiktok_daily_post_limit",
    "tiktokPendingShareLimit": "tiktok_pending_share_limit",
    "instagramDailyLimit": "instagram_daily_limit",
    "tiktokCreatorUsername": "tiktok_creator_username",
    "oauthConsent": "oauth_consent",
    "oauthGrantedScopes": "oauth_granted_scopes",
    "oauthAccount": "oauth_account",
    "instagramAccountType": "instagram_account_type",
    "tiktokRateWindowSeconds": "tiktok_rate_window_seconds",
}
OAUTH_CONSENTS = ("approve", "deny", "page")


@dataclass
class SandboxConfig:
    processing_seconds: float = 0.5  # how long TikTok uploads, IG containers and dispatches stay pending
    managed_secret: str = "sandbox-secret"  # the managed provider's X-Crier-Signature secret
    token_prefix: str = ""  # bearer tokens must start with this ("" = any non-empty token)
    signature_tolerance_seconds: float = 300.0
    # The platforms' real caps (15 posts/day, 5 pending inbox shares, 50 to 100 IG posts/day) are off
    # by default so that load runs are not throttled; set them to exercise those errors.
    tiktok_daily_post_limit: int | None = None
    tiktok_pending_share_limit: int | None = None
    instagram_daily_limit: int | None = None
    # The creator_username creator_info answers (Crier's test accounts are @creator, so the public
    # URL Crier builds from it matches the handle); None: a name derived from the token's account.
    tiktok_creator_username: str | None = "creator"
    # The consent pages (crier.sandbox.oauth): approve at once, deny, or show Approve / Deny buttons;
    # grant only these of the scopes asked (None: all); who consents; the Instagram account's type.
    oauth_consent: str = "approve"
    oauth_granted_scopes: list[str] | None = None
    oauth_account: str = "creator"
    instagram_account_type: str = "BUSINESS"
    # TikTok's per-token rates (6 init, 20 creator_info, 30 status fetches per window) are enforced with
    # 429 rate_limit_exceeded when this is set: 60 is the real platform; None leaves them off.
    tiktok_rate_window_seconds: float | None = None

    def update(self, raw: dict[str, Any]) -> None:
        """Apply a POST /_sandbox/config body (camelCase keys)."""
        for key, value in raw.items():
            if key not in CONFIG_KEYS:
                raise ValueError(f"unknown config key {key!r}; known: {', '.join(CONFIG_KEYS)}")
            if key == "oauthConsent" and value not in OAUTH_CONSENTS:
                raise ValueError(f"oauthConsent must be one of {', '.join(OAUTH_CONSENTS)}")
            setattr(self, CONFIG_KEYS[key], value)

    def as_wire(self) -> dict[str, Any]:
        return {key: getattr(self, attribute) for key, attribute in CONFIG_KEYS.items()}


class SandboxState:
    """All fakes share one state so that one reset and one records read cover everything."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.defaults = config or SandboxConfig()
        self.reset()

    def reset(self) -> None:
        """Forget everything: records, faults, and configuration back to the app's defaults."""
        self.config = dataclasses.replace(self.defaults)
        self.faults = Faults()
        self.calls: dict[str, int] = {}
        self.tiktok_publishes: dict[str, dict[str, Any]] = {}
        self.tiktok_posts: list[dict[str, Any]] = []
        self.tiktok_spent_refresh_tokens: set[str] = set()
        self.tiktok_refreshes = 0
        self.tiktok_call_times: dict[tuple[str, str], list[float]] = {}  # (account, call kind) → times
        self.tiktok_rate_limited = 0  # 429s answered for the per-token rates
        self.ig_containers: dict[str, dict[str, Any]] = {}
        self.ig_media: dict[str, dict[str, Any]] = {}
        self.ig_comments: list[dict[str, Any]] = []
        self.ig_refreshes = 0
        self.sms: list[dict[str, Any]] = []
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.oauth_consents = 0
        self.oauth_exchanges = 0
        self.oauth_revocations: list[dict[str, Any]] = []
        self.ig_short_tokens: dict[str, str] = {}
        self.dispatches: dict[str, dict[str, Any]] = {}
        self.dispatch_keys: dict[str, str] = {}
        self.dispatch_requests = 0
        self.created: dict[str, Counter[str]] = {
            name: Counter() for name in ("tiktok", "instagram", "twilio", "managed")
        }
        self._numbers = itertools.count(1)

    def number(self) -> int:
        """A fresh sequence number, unique within this state's life."""
        return next(self._numbers)

    def created_one(self, platform: str, caption: str) -> None:
        """Count one creation (a post, a draft, a message, a dispatch) for `caption`."""
        self.created[platform][caption] += 1

    def failed_one(self, platform: str, caption: str) -> None:
        """Take back a creation whose processing failed: the platform made no post of it, so a second
        call for the same post (after its first answer was lost and its absence proven) is no duplicate."""
        self.created[platform][caption] -= 1

    @staticmethod
    def due(record: dict[str, Any], seconds: float) -> bool:
        """True once `record` has been processing for `seconds`."""
        started: float = record["_started"]
        return time.monotonic() - started >= seconds

    def snapshot(self) -> dict[str, Any]:
        """Everything created since the last reset, with per-caption counts and duplicates."""
        created = {platform: dict(counts) for platform, counts in self.created.items()}
        duplicates = [
            {"platform": platform, "caption": caption, "count": count}
            for platform, counts in created.items()
            for caption, count in counts.items()
            if count > 1
        ]
        return {
            "tiktok": {
                "publishes": _public(self.tiktok_publishes.values()),
                "posts": _public(self.tiktok_posts),
                "refreshes": self.tiktok_refreshes,
                "rateLimited": self.tiktok_rate_limited,
            },
            "instagram": {
                "containers": _public(self.ig_containers.values()),
                "media": _public(self.ig_media.values()),
                "comments": _public(self.ig_comments),
                "refreshes": self.ig_refreshes,
            },
            "twilio": {"messages": _public(self.sms)},
            "oauth": {
                "consents": self.oauth_consents,
                "exchanges": self.oauth_exchanges,
                "revocations": list(self.oauth_revocations),
            },
            "managed": {"dispatches": _public(self.dispatches.values()), "requests": self.dispatch_requests},
            "createdPerCaption": created,
            "duplicates": duplicates,
            "calls": dict(self.calls),
        }


def _public(records: Any) -> list[dict[str, Any]]:
    # Fields starting with "_" are the sandbox's own bookkeeping (monotonic clocks, raw bodies).
    return [{key: value for key, value in record.items() if not key.startswith("_")} for record in records]
