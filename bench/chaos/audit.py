"""The audit: PostgreSQL's rows against the sandbox's own records of what each platform did."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from bench.chaos.report import ChaosReport
from crier.core.vocabulary import TERMINAL_STATUSES

SP_PATTERN = re.compile(r"sp_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def audit_records(
    report: ChaosReport,
    *,
    rows: dict[str, dict[str, Any]],
    records: dict[str, Any],
    accepted: set[str],
    cancel_ok: set[str],
) -> None:
    """Fill `report` from PostgreSQL's rows and the sandbox's records (GET /_sandbox/records).

    Every post is known on the platforms by its id, which its caption carries (an inbox video, which
    has no caption, by its video URL; a dispatch by its Idempotency-Key).
    """
    report.sandbox_calls = records.get("calls", {})
    report.tiktok_rate_limited = int(records.get("tiktok", {}).get("rateLimited", 0))
    report.accepted = len(accepted)
    report.posts_in_db = len(rows)
    report.unconfirmed_in_db = sum(1 for post_id in rows if post_id not in accepted)

    # How many times each post was created on each platform, by the sandbox's own count.
    created: dict[str, Counter] = defaultdict(Counter)
    for family, counts in records.get("createdPerCaption", {}).items():
        for caption, count in counts.items():
            ids = set(SP_PATTERN.findall(caption))
            if not ids and count > 1:
                report.duplicates.append({"platform": family, "caption": caption, "count": count})
            for post_id in ids:
                created[post_id][family] += count
    for post_id, families in created.items():
        for family, count in families.items():
            if count > 1:
                report.duplicates.append({"platform": family, "postId": post_id, "count": count})

    tiktok_posts: dict[str, list[str]] = defaultdict(list)
    for post in records["tiktok"]["posts"]:
        for post_id in SP_PATTERN.findall(str(post.get("caption") or "")):
            tiktok_posts[post_id].append(str(post["post_id"]))
    tiktok_drafts: dict[str, list[str]] = defaultdict(list)
    for publish in records["tiktok"]["publishes"]:
        if publish.get("kind") in ("inbox_video", "photo_draft") and publish.get("status") != "FAILED":
            source = (publish.get("request") or {}).get("source_info") or {}
            text = f"{publish.get('caption') or ''} {source.get('video_url') or ''}"
            for post_id in SP_PATTERN.findall(text):
                tiktok_drafts[post_id].append(str(publish["publish_id"]))
    instagram_media: dict[str, list[str]] = defaultdict(list)
    for media in records["instagram"]["media"]:
        for post_id in SP_PATTERN.findall(str(media.get("caption") or "")):
            instagram_media[post_id].append(str(media["id"]))
    messages: dict[str, list[str]] = defaultdict(list)
    for message in records["twilio"]["messages"]:
        for post_id in SP_PATTERN.findall(str(message.get("body") or "")):
            messages[post_id].append(str(message["sid"]))
    dispatches = {d["idempotencyKey"]: d for d in records["managed"]["dispatches"]}

    for post_id in accepted:
        row = rows.get(post_id)
        if row is None or row["status"] not in TERMINAL_STATUSES:
            report.lost.append(post_id)
    for post_id, row in rows.items():
        if post_id not in accepted and row["status"] not in TERMINAL_STATUSES:
            report.lost.append(post_id)
        report.statuses[row["status"]] += 1
        status, mode, platform, external = row["status"], row["mode"], row["platform"], row["external_id"]
        if row.get("reconcile_result"):
            report.reconciled[row["reconcile_result"]] += 1
            message = str((row["last_error"] or {}).get("message") or "")
            if row["reconcile_result"] == "unknown" and "(" in message:
                report.unknown_why[message.rsplit("(", 1)[1].rstrip(".)")] += 1
        if row.get("deferrals"):
            report.deferred += 1
            report.deferred_resumed += status in ("published", "draft")
            report.deferred_canceled += status == "canceled"
        delivered = sum(created.get(post_id, Counter()).values()) > 0 or post_id in dispatches
        if status == "failed":
            code = (row["last_error"] or {}).get("code", "?")
            report.failed_by_code[code] += 1
            if delivered:
                report.failed_on_platform[code] += 1
        elif status == "canceled":
            if delivered:
                report.canceled_delivered.append(post_id)
        elif status == "published":
            if external is None:
                report.published_without_external_id += 1
            if mode == "managed":
                dispatch = dispatches.get(post_id)
                found = (
                    [str(dispatch.get("externalId"))]
                    if dispatch and dispatch["status"] == "published"
                    else []
                )
            elif platform == "tiktok":
                found = tiktok_posts.get(post_id, [])
            else:
                found = instagram_media.get(post_id, [])
            if not found:
                report.published_missing.append(post_id)
            elif external is not None and external not in found:
                report.external_id_mismatch.append(f"{post_id}: {external} not in {found}")
        elif status == "draft":
            found = tiktok_drafts.get(post_id, []) if platform == "tiktok" else messages.get(post_id, [])
            if mode != "draft" or not found:
                report.draft_missing.append(post_id)
            elif external is not None and external not in found:
                report.external_id_mismatch.append(f"{post_id}: {external} not in {found}")
    for post_id in cancel_ok:
        if rows.get(post_id, {}).get("status") != "canceled":
            report.cancel_not_honoured.append(f"{post_id}: {rows.get(post_id, {}).get('status')}")
    known = set(rows)
    report.orphans = sorted((set(created) | {key for key in dispatches if key.startswith("sp_")}) - known)
