"""Names for how far a delivery got, read from its journal (the attempts listing shows them).

Delivery stays platform-blind: it hands the journal here and stores the name it gets back. The
order matters: the furthest step an adapter journaled wins.
"""

from __future__ import annotations

from typing import Any

from crier.platforms.reconcile import STARTED_AT

# (journal handle, step name), furthest first; a handle counts when it is truthy.
_STEPS: tuple[tuple[str, str], ...] = (
    (STARTED_AT, "reconciling"),
    ("ig_media_id", "instagram.published"),
    ("ig_publish_sent", "instagram.media_publish_sent"),
    ("ig_container_id", "instagram.container_created"),
    ("ig_child_ids", "instagram.carousel_items_created"),
    ("sms_sid", "twilio.sent"),
    ("sms_sent", "twilio.send_requested"),
    ("tiktok_video_id", "tiktok.found_by_reconciliation"),
    ("tiktok_publish_id", "tiktok.init_accepted"),
    ("tiktok_init_sent", "tiktok.init_sent"),
    ("managed_dispatch_id", "managed.dispatched"),
)
# Intent markers of irreversible calls (steps.irreversible): set means the platform may hold a copy.
INTENT_MARKERS = ("tiktok_init_sent", "ig_publish_sent", "sms_sent")
# Handles only a platform that accepted the post returns.
ACCEPTED_HANDLES = ("tiktok_publish_id", "tiktok_video_id", "ig_media_id", "sms_sid", "managed_dispatch_id")
# TikTok's status said FAILED: its own record says the post was not published.
TIKTOK_FAILED = "tiktok_failed_reason"


def step_reached(handles: dict[str, Any]) -> str:
    """The furthest step the journal shows; "not_started" before any platform answered."""
    for handle, name in _STEPS:
        if handles.get(handle):
            return name
    return "not_started"


def why_a_copy_may_exist(handles: dict[str, Any]) -> str | None:
    """None only when Crier knows the platform has no copy of the post: no irreversible call is
    pending, or the platform's own record (TikTok FAILED, a proven absence) says there is none.
    Otherwise "platform_accepted" (the platform took the post) or "outcome_unknown" (it may have)."""
    if handles.get(TIKTOK_FAILED):
        return None
    if any(handles.get(handle) for handle in ACCEPTED_HANDLES):
        return "platform_accepted"
    if any(handles.get(marker) for marker in INTENT_MARKERS):
        return "outcome_unknown"
    return None
