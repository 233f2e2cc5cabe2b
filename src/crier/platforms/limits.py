"""The platforms' limits as PLATFORMS.md §7 documents them, and the names the quota ledger uses.

Per-token call rates are per minute on the real platforms; `tiktok_rate_window_seconds` can shrink
the window for tests and the sandbox (both sides must agree).
"""

from __future__ import annotations

from dataclasses import dataclass

from crier.platforms.base import PlatformError

QUOTA_DEFERRED = "QUOTA_DEFERRED"
DAY_SECONDS = 86400.0


@dataclass(frozen=True)
class CallRate:
    call: str  # the ledger's name for the call kind
    per_window: int


# TikTok, per access token (PLATFORMS.md §1, §7): every init endpoint shares one budget.
TIKTOK_INIT = CallRate("tiktok.init", 6)
TIKTOK_CREATOR_INFO = CallRate("tiktok.creator_info", 20)
TIKTOK_STATUS = CallRate("tiktok.status", 30)
TIKTOK_RATES = (TIKTOK_INIT, TIKTOK_CREATOR_INFO, TIKTOK_STATUS)

# Per-creator caps TikTok does not publish: learned from its spam_risk_* refusals (24 h windows).
TIKTOK_DIRECT_POSTS = "tiktok.direct_posts"
TIKTOK_INBOX_SHARES = "tiktok.inbox_shares"
LEARNED_BY_CODE = {
    "spam_risk_too_many_posts": TIKTOK_DIRECT_POSTS,
    "spam_risk_too_many_pending_share": TIKTOK_INBOX_SHARES,
}

# Instagram's content_publishing_limit, read from the platform and counted in between.
INSTAGRAM_PUBLISHING = "instagram.content_publishing"
INSTAGRAM_MEDIA_PUBLISH_CALL = "instagram.media_publish"  # the ledger of media_publish calls sent
INSTAGRAM_FALLBACK_WAIT = 3600.0  # a full quota with no known reset is asked again in an hour


def deferral_error(platform: str, limit_name: str, seconds: float) -> PlatformError:
    return PlatformError(
        QUOTA_DEFERRED,
        f"Held back so as not to break the platform's {limit_name} limit; it goes out in about "
        f"{max(1, round(seconds))} s, by itself.",
        platform,
    )
