"""The platforms' limits as PLATFORMS.md §7 documents them, and the names the quota ledger uses.

Per-token call rates are per minute on the real platforms; `tiktok_rate_window_seconds` can shrink
the window for tests and the sandbox (both sides must agree).
"""

from __future__ import annotations

from dataclasses import dataclass

from crier.platforms.base import PlatformError

QUOTA_DEFERRED = "QUOTA_DEFERRED"
DAY_SECONDS = 86400.0

# What one post may carry (PLATFORMS.md §1–§2): adapters cut or refuse to it, preflight warns of it.
TIKTOK_VIDEO_TITLE_MAX = 2200
TIKTOK_PHOTO_TITLE_MAX = 90
TIKTOK_PHOTO_DESCRIPTION_MAX = 4000
TIKTOK_PHOTO_IMAGES_MAX = 35
INSTAGRAM_CAPTION_MAX = 2200
INSTAGRAM_HASHTAGS_MAX = 30
INSTAGRAM_MENTIONS_MAX = 20
INSTAGRAM_CAROUSEL_MAX = 10  # Graph API: carousels take 2 to 10 items


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
