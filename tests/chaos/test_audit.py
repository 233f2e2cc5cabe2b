"""The chaos auditor itself: it must see every kind of damage the suite exists to catch.

Synthetic PostgreSQL rows and sandbox records (the shapes of GET /_sandbox/records); no servers.
"""

from __future__ import annotations

import uuid
from typing import Any

from bench.chaos import ChaosReport, audit_records


def sp() -> str:
    return f"sp_{uuid.uuid4()}"


def row(
    post_id: str,
    status: str,
    *,
    platform: str = "tiktok",
    mode: str = "publish",
    external_id: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    return {
        "id": post_id,
        "status": status,
        "platform": platform,
        "mode": mode,
        "external_id": external_id,
        "last_error": {"code": code} if code else None,
    }


def records(
    *,
    created: dict[str, dict[str, int]] | None = None,
    tiktok_posts=(),
    publishes=(),
    media=(),
    messages=(),
    dispatches=(),
) -> dict[str, Any]:
    return {
        "tiktok": {"publishes": list(publishes), "posts": list(tiktok_posts)},
        "instagram": {"media": list(media)},
        "twilio": {"messages": list(messages)},
        "managed": {"dispatches": list(dispatches)},
        "createdPerCaption": created or {},
        "calls": {},
    }


def audit(
    rows: list[dict[str, Any]],
    recs: dict[str, Any],
    *,
    accepted: set[str] | None = None,
    cancel_ok: set[str] = frozenset(),
) -> ChaosReport:
    report = ChaosReport(seed=1, requested=len(rows))
    by_id = {r["id"]: r for r in rows}
    audit_records(
        report,
        rows=by_id,
        records=recs,
        accepted=set(by_id) if accepted is None else accepted,
        cancel_ok=set(cancel_ok),
    )
    return report


def test_a_clean_run_passes() -> None:
    tt, ig, sms, inbox, managed, failed = sp(), sp(), sp(), sp(), sp(), sp()
    recs = records(
        created={
            "tiktok": {f"chaos {tt}": 1, f"https://cdn.example.com/chaos/{inbox}.mp4": 1},
            "instagram": {f"chaos {ig}": 1},
            "twilio": {f"Instagram draft ...\n\nchaos {sms}": 1},
            "managed": {f"chaos {managed}": 1},
        },
        tiktok_posts=[{"post_id": 7291234567890123457, "caption": f"chaos {tt}"}],
        publishes=[
            {
                "publish_id": "v_pub_url~v2.1",
                "kind": "inbox_video",
                "caption": "",
                "status": "SEND_TO_USER_INBOX",
                "request": {"source_info": {"video_url": f"https://cdn.example.com/chaos/{inbox}.mp4"}},
            }
        ],
        media=[{"id": "1789000", "caption": f"chaos {ig}"}],
        messages=[{"sid": "SM1", "body": f"Instagram draft ...\n\nchaos {sms}"}],
        dispatches=[{"idempotencyKey": managed, "status": "published", "externalId": "42"}],
    )
    report = audit(
        [
            row(tt, "published", external_id="7291234567890123457"),
            row(ig, "published", platform="instagram", external_id="1789000"),
            row(sms, "draft", platform="instagram", mode="draft", external_id="SM1"),
            row(inbox, "draft", mode="draft", external_id="v_pub_url~v2.1"),
            row(managed, "published", mode="managed", external_id="42"),
            row(failed, "failed", code="TIKTOK_PRIVACY_LEVEL_OPTION_MISMATCH"),
        ],
        recs,
    )
    assert report.ok, report.summary()
    assert report.statuses == {"published": 3, "draft": 2, "failed": 1}


def test_duplicates_missing_lost_and_canceled_deliveries_are_caught() -> None:
    twice, missing, stuck, canceled, mismatch, orphan, absent = (sp() for _ in range(7))
    recs = records(
        created={
            "tiktok": {
                f"chaos {twice}": 2,
                f"chaos {canceled}": 1,
                f"chaos {mismatch}": 1,
                f"chaos {orphan}": 1,
            }
        },
        tiktok_posts=[
            {"post_id": 1, "caption": f"chaos {twice}"},
            {"post_id": 2, "caption": f"chaos {twice}"},
            {"post_id": 3, "caption": f"chaos {mismatch}"},
        ],
    )
    report = audit(
        [
            row(twice, "published", external_id="1"),
            row(missing, "published", external_id="9"),
            row(stuck, "publishing"),
            row(canceled, "canceled"),
            row(mismatch, "published", external_id="4"),
        ],
        recs,
        accepted={twice, missing, stuck, canceled, mismatch, absent},
        cancel_ok={canceled, stuck},
    )
    assert [d["postId"] for d in report.duplicates] == [twice]
    assert report.published_missing == [missing]
    assert sorted(report.lost) == sorted([stuck, absent])
    assert report.canceled_delivered == [canceled]
    assert report.cancel_not_honoured == [f"{stuck}: publishing"]
    assert report.external_id_mismatch == [f"{mismatch}: 4 not in ['3']"]
    assert report.orphans == [orphan]
    assert not report.ok


def test_an_outcome_unknown_post_on_the_platform_is_not_a_problem() -> None:
    post = sp()
    recs = records(created={"tiktok": {f"chaos {post}": 1}})
    report = audit([row(post, "failed", code="OUTCOME_UNKNOWN")], recs)
    assert report.ok, report.summary()
    assert report.failed_on_platform == {"OUTCOME_UNKNOWN": 1}


def test_reconciled_unknowns_and_deferred_posts_are_counted() -> None:
    found, absent, unknown, deferred = sp(), sp(), sp(), sp()
    recs = records(
        created={"tiktok": {f"chaos {found}": 1, f"chaos {absent}": 1, f"chaos {deferred}": 1}},
        tiktok_posts=[
            {"post_id": n, "caption": f"chaos {post_id}"}
            for n, post_id in ((1, found), (2, absent), (3, deferred))
        ],
    )
    rows = [
        {**row(found, "published", external_id="1"), "reconcile_result": "found"},
        {**row(absent, "published", external_id="2"), "reconcile_result": "absent"},
        {**row(unknown, "failed", code="OUTCOME_UNKNOWN"), "reconcile_result": "unknown"},
        {**row(deferred, "published", external_id="3"), "deferrals": 2},
    ]
    report = audit(rows, recs)
    assert report.ok, report.summary()
    assert report.reconciled == {"found": 1, "absent": 1, "unknown": 1}
    assert (report.deferred, report.deferred_resumed) == (1, 1)
    assert "reconciled_found=1 reconciled_absent=1 still_unknown=1 deferred=1" in report.summary()


def test_a_platform_429_for_paced_rates_fails_the_run() -> None:
    recs = records()
    recs["tiktok"]["rateLimited"] = 2
    report = audit([], recs)
    assert not report.ok and any("tiktok-rate-limited: 2" in problem for problem in report.problems)
