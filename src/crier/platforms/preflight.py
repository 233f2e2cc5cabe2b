"""What each platform would refuse, found before sending: caption limits and TikTok's creator_info.

Used by POST /v1/content/{id}/validate. Nothing here posts anything: creator_info is a read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from crier.core.settings import Settings
from crier.core.vocabulary import Mode, Platform
from crier.platforms.http import json_object, object_member
from crier.platforms.limits import (
    INSTAGRAM_CAPTION_MAX,
    INSTAGRAM_CAROUSEL_MAX,
    INSTAGRAM_HASHTAGS_MAX,
    INSTAGRAM_MENTIONS_MAX,
    TIKTOK_PHOTO_DESCRIPTION_MAX,
    TIKTOK_VIDEO_TITLE_MAX,
)
from crier.platforms.tiktok import CREATOR_INFO, DEFAULT_PRIVACY

_HASHTAG = re.compile(r"(?<!\w)#\w+")
_MENTION = re.compile(r"(?<!\w)@[\w.]+")


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    field: str | None = None


def caption_problems(*, platform: str, mode: str, media_type: str, caption: str, field: str) -> list[Problem]:
    """The platform's caption limits (PLATFORMS.md §1–§2); managed providers apply their own."""
    if mode == Mode.MANAGED:
        return []
    if platform == Platform.TIKTOK:
        if mode == Mode.DRAFT:
            return []  # inbox drafts carry no caption for videos; the creator writes it in the app
        limit = TIKTOK_VIDEO_TITLE_MAX if media_type == "video" else TIKTOK_PHOTO_DESCRIPTION_MAX
        if len(caption) > limit:
            return [
                Problem(
                    "CAPTION_TOO_LONG",
                    f"TikTok takes at most {limit} characters here; the caption has "
                    f"{len(caption)} and would be cut.",
                    field,
                )
            ]
        return []
    if mode == Mode.DRAFT:
        return []  # texted to the operator, who pastes it: Instagram's limits apply then, not now
    problems = []
    if len(caption) > INSTAGRAM_CAPTION_MAX:
        problems.append(
            Problem(
                "CAPTION_TOO_LONG",
                f"Instagram captions take at most {INSTAGRAM_CAPTION_MAX} "
                f"characters; this one has {len(caption)}.",
                field,
            )
        )
    hashtags, mentions = len(_HASHTAG.findall(caption)), len(_MENTION.findall(caption))
    if hashtags > INSTAGRAM_HASHTAGS_MAX:
        problems.append(
            Problem(
                "TOO_MANY_HASHTAGS",
                f"Instagram allows {INSTAGRAM_HASHTAGS_MAX} hashtags; the caption has {hashtags}.",
                field,
            )
        )
    if mentions > INSTAGRAM_MENTIONS_MAX:
        problems.append(
            Problem(
                "TOO_MANY_MENTIONS",
                f"Instagram allows {INSTAGRAM_MENTIONS_MAX} mentions; the caption has {mentions}.",
                field,
            )
        )
    return problems


def media_problems(*, platform: str, mode: str, media_count: int, field: str) -> list[Problem]:
    if platform == Platform.INSTAGRAM and mode == Mode.PUBLISH and media_count > INSTAGRAM_CAROUSEL_MAX:
        return [
            Problem(
                "IG_CAROUSEL_TOO_LARGE",
                f"Instagram carousels take at most {INSTAGRAM_CAROUSEL_MAX} "
                f"items; this container has {media_count}.",
                field,
            )
        ]
    return []


async def tiktok_creator_info(
    http: httpx.AsyncClient, settings: Settings, *, access_token: str
) -> dict[str, Any] | Problem:
    """creator_info's data, or the problem that kept it from answering (no token refresh here: a
    stale token is refreshed by delivery, and preflight must not rotate tokens behind its back)."""
    url = f"{settings.tiktok_api_base.rstrip('/')}{CREATOR_INFO}"
    headers = {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json; charset=UTF-8"}
    try:
        response = await http.post(url, headers=headers)
    except httpx.HTTPError as exc:
        return Problem(
            "TIKTOK_CREATOR_INFO_UNAVAILABLE",
            f"TikTok's creator_info did not answer ({type(exc).__name__}); the live checks were skipped.",
        )
    envelope = json_object(response) or {}
    error = object_member(envelope, "error")
    code = error.get("code")
    data = envelope.get("data")
    if code == "ok" and response.status_code < 400 and isinstance(data, dict):
        return data
    label = str(code or f"http_{response.status_code}")
    return Problem(
        f"TIKTOK_{label.upper()}",
        f"TikTok's creator_info answered {label}: {error.get('message') or 'no message'}.",
    )


def creator_problems(
    creator: dict[str, Any], *, settings: dict[str, Any], media_type: str, durations: list[float], field: str
) -> list[Problem]:
    """What init would refuse (privacy) or silently override (interactions), and over-long videos."""
    problems = []
    privacy = settings.get("privacyLevel") or DEFAULT_PRIVACY
    options = creator.get("privacy_level_options")
    if isinstance(options, list) and privacy not in options:
        allowed = ", ".join(str(option) for option in options) or "none"
        problems.append(
            Problem(
                "TIKTOK_PRIVACY_LEVEL_OPTION_MISMATCH",
                f"privacyLevel {privacy} is not available for this creator (allowed: {allowed}).",
                f"{field}.tiktokPostSettings.privacyLevel",
            )
        )
    interactions = [("comment", "disableComment")]
    if media_type == "video":
        interactions += [("duet", "disableDuet"), ("stitch", "disableStitch")]
    for name, key in interactions:
        if creator.get(f"{name}_disabled") and settings.get(key) is False:
            problems.append(
                Problem(
                    "TIKTOK_INTERACTION_DISABLED",
                    f"The creator turned {name}s off; TikTok's guidelines keep them off, so "
                    f"{key}: false cannot be honoured.",
                    f"{field}.tiktokPostSettings.{key}",
                )
            )
    limit = creator.get("max_video_post_duration_sec")
    if media_type == "video" and isinstance(limit, int | float):
        for duration in durations:
            if duration > limit:
                problems.append(
                    Problem(
                        "TIKTOK_VIDEO_TOO_LONG",
                        f"The video lasts {duration:.0f} s; this creator may post at most {limit} s.",
                        field,
                    )
                )
    return problems
