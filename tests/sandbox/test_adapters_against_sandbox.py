"""The real adapters, driven like the runner drives them, against the sandbox through to the end."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn

from crier.platforms.base import ManagedProvider, OutcomeKind
from crier.platforms.http import create_http_client
from crier.platforms.registry import adapter_for
from crier.sandbox.app import create_app
from tests.platforms.support import FakeJournal, assert_kind, drive, job, settings, with_account
from tests.sandbox.conftest import BASE

pytestmark = pytest.mark.asyncio

IG_USER = "17841400000000001"


async def faults(sandbox, **body):
    assert (await sandbox.post("/_sandbox/faults", json=body)).status_code == 200


async def records(sandbox):
    return (await sandbox.get("/_sandbox/records")).json()


def run(delivery, http, sandbox_settings, journal=None):
    journal = journal or FakeJournal()
    adapter = adapter_for(delivery, http=http, settings=sandbox_settings)
    return drive(adapter, delivery, journal), journal


@pytest.mark.parametrize(
    ("mode", "media_type", "status"),
    [
        ("publish", "video", "published"),
        ("publish", "multi", "published"),
        ("draft", "video", "draft"),
        ("draft", "image", "draft"),
    ],
)
async def test_tiktok_reaches_done_once(sandbox, http, sandbox_settings, mode, media_type, status):
    outcomes, _ = run(job(mode=mode, media_type=media_type), http, sandbox_settings)
    final = (await outcomes)[-1]
    assert final.kind is OutcomeKind.DONE and final.status == status
    state = await records(sandbox)
    assert len(state["tiktok"]["publishes"]) == 1 and state["duplicates"] == []
    if status == "published":
        [post] = state["tiktok"]["posts"]
        assert final.external_id == str(post["post_id"])  # exact, though above 2^53
        assert final.external_url == f"https://www.tiktok.com/@creator/video/{post['post_id']}"


async def test_tiktok_expired_token_is_rotated_against_the_sandbox(sandbox, http, sandbox_settings):
    delivery = with_account(
        job(), refresh_token="rt-seed", token_expires_at=datetime.now(UTC) - timedelta(hours=1)
    )
    outcomes, journal = run(delivery, http, sandbox_settings)
    assert (await outcomes)[-1].status == "published"
    assert journal.tokens[0]["refresh_token"].startswith("sbx-rt.rt-seed.")
    assert delivery.account.access_token.startswith("sbx-at.rt-seed.")
    assert (await records(sandbox))["tiktok"]["refreshes"] == 1


async def test_tiktok_init_whose_answer_is_lost_ends_outcome_unknown_with_one_post(
    sandbox, http, sandbox_settings
):
    await faults(sandbox, calls=[{"endpoint": "tiktok.video_init", "status": 500, "apply": True}])
    outcomes, _ = run(job(), http, sandbox_settings)
    outcomes = await outcomes
    assert [o.kind for o in outcomes] == [OutcomeKind.RETRYABLE, OutcomeKind.TERMINAL]
    assert outcomes[-1].error.code == "OUTCOME_UNKNOWN"
    state = await records(sandbox)
    assert state["calls"]["tiktok.video_init"] == 1 and len(state["tiktok"]["publishes"]) == 1


async def test_tiktok_rate_limit_then_success(sandbox, http, sandbox_settings):
    await faults(sandbox, calls=[{"endpoint": "tiktok.video_init", "status": 429, "retryAfter": 1}])
    outcomes, _ = run(job(), http, sandbox_settings)
    outcomes = await outcomes
    assert outcomes[0].kind is OutcomeKind.RETRYABLE and outcomes[0].retry_after == 1.0
    assert outcomes[-1].status == "published" and len((await records(sandbox))["tiktok"]["posts"]) == 1


async def test_tiktok_private_creator_and_failed_processing_are_terminal(sandbox, http, sandbox_settings):
    await faults(sandbox, tiktokPrivate=True)
    outcomes, _ = run(job(), http, sandbox_settings)
    assert_kind((await outcomes)[-1], OutcomeKind.TERMINAL, "TIKTOK_PRIVACY_LEVEL_OPTION_MISMATCH")
    assert (await records(sandbox))["tiktok"]["publishes"] == []

    await faults(sandbox, tiktokPrivate=False, tiktokFail={"reason": "duration_check_failed", "times": 1})
    outcomes, _ = run(job(), http, sandbox_settings)
    assert_kind((await outcomes)[-1], OutcomeKind.TERMINAL, "TIKTOK_DURATION_CHECK_FAILED")


@pytest.mark.parametrize("media_type", ["image", "video", "multi"])
async def test_instagram_reaches_published_with_permalink_and_one_comment(
    sandbox, http, sandbox_settings, media_type
):
    delivery = job("instagram", media_type=media_type, first_comment="first!")
    outcomes, _ = run(delivery, http, sandbox_settings)
    final = (await outcomes)[-1]
    state = await records(sandbox)
    [media] = state["instagram"]["media"]
    assert (final.status, final.external_id, final.external_url) == (
        "published",
        media["id"],
        media["permalink"],
    )
    assert [c["message"] for c in state["instagram"]["comments"]] == ["first!"]
    assert state["createdPerCaption"]["instagram"] == {"Hello world #crier": 1}


async def test_instagram_lost_publish_answer_recovers_the_media_without_reposting(
    sandbox, http, sandbox_settings
):
    await faults(sandbox, calls=[{"endpoint": "instagram.media_publish", "status": 502, "apply": True}])
    outcomes, _ = run(job("instagram", media_type="image"), http, sandbox_settings)
    final = (await outcomes)[-1]
    state = await records(sandbox)
    [media] = state["instagram"]["media"]
    assert final.status == "published" and final.external_id == media["id"]
    assert state["calls"]["instagram.media_publish"] == 1 and state["duplicates"] == []


async def test_instagram_personal_account_is_terminal(sandbox, http, sandbox_settings):
    await faults(sandbox, instagramPersonal=[IG_USER])
    outcomes, _ = run(job("instagram", media_type="image"), http, sandbox_settings)
    final = (await outcomes)[-1]
    assert_kind(final, OutcomeKind.TERMINAL, "GRAPH_10")
    assert final.error.message == "The user is not an Instagram Business"


async def test_instagram_permalink_failure_still_published(sandbox, http, sandbox_settings):
    await faults(sandbox, permalinkFails={"times": 1})
    outcomes, _ = run(job("instagram", media_type="image"), http, sandbox_settings)
    final = (await outcomes)[-1]
    assert final.status == "published" and final.external_id and final.external_url is None


async def test_instagram_expired_token_refreshes_via_the_sandbox(sandbox, http, sandbox_settings):
    await faults(sandbox, calls=[{"endpoint": "instagram.media_create", "error": 190, "subcode": 463}])
    outcomes, journal = run(job("instagram", media_type="image"), http, sandbox_settings)
    assert (await outcomes)[-1].status == "published"
    assert journal.tokens[0]["access_token"].startswith("sbx-ig.")
    assert (await records(sandbox))["instagram"]["refreshes"] == 1


async def test_instagram_aging_token_is_refreshed_proactively_via_the_sandbox(
    sandbox, http, sandbox_settings
):
    delivery = with_account(
        job("instagram", media_type="image"), token_expires_at=datetime.now(UTC) + timedelta(days=20)
    )
    outcomes, journal = run(delivery, http, sandbox_settings)
    assert (await outcomes)[-1].status == "published"
    [saved] = journal.tokens
    assert saved["access_token"].startswith("sbx-ig.") and saved["refresh_token"] is None
    assert saved["token_expires_at"] > datetime.now(UTC) + timedelta(days=59)
    assert (await records(sandbox))["instagram"]["refreshes"] == 1


async def test_instagram_failed_proactive_refresh_still_publishes_via_the_sandbox(
    sandbox, http, sandbox_settings
):
    await faults(sandbox, calls=[{"endpoint": "instagram.refresh", "status": 500, "times": 5}])
    delivery = with_account(
        job("instagram", media_type="image"), token_expires_at=datetime.now(UTC) + timedelta(days=3)
    )
    outcomes, journal = run(delivery, http, sandbox_settings)
    assert (await outcomes)[-1].status == "published"
    assert journal.tokens == [] and delivery.account.access_token == "at-old"
    state = await records(sandbox)
    assert state["calls"]["instagram.refresh"] == 1 and len(state["instagram"]["media"]) == 1


@pytest.mark.parametrize(("configured", "expected"), [("star_creator", "star_creator"), (None, "sbx_")])
async def test_tiktok_public_url_uses_the_sandbox_creator_username(
    sandbox, http, sandbox_settings, configured, expected
):
    changed = await sandbox.post("/_sandbox/config", json={"tiktokCreatorUsername": configured})
    assert changed.status_code == 200
    outcomes, journal = run(job(), http, sandbox_settings)
    final = (await outcomes)[-1]
    [post] = (await records(sandbox))["tiktok"]["posts"]
    assert post["username"].startswith(expected) and journal.handles["tiktok_username"] == post["username"]
    assert final.external_url == f"https://www.tiktok.com/@{post['username']}/video/{post['post_id']}"


async def test_sms_draft_reaches_the_operator(sandbox, http, sandbox_settings):
    delivery = job("instagram", "draft", "multi", operator_phone="+15551234567")
    outcomes, _ = run(delivery, http, sandbox_settings)
    final = (await outcomes)[-1]
    [message] = (await records(sandbox))["twilio"]["messages"]
    assert (final.status, final.external_id) == ("draft", message["sid"])
    assert message["to"] == "+15551234567" and message["media_urls"] == delivery.media_urls


async def test_managed_dispatch_retried_after_a_lost_answer_publishes_once(sandbox, http, sandbox_settings):
    await faults(sandbox, calls=[{"endpoint": "managed.dispatch_create", "status": 500, "apply": True}])
    provider = ManagedProvider("sandbox", f"{BASE}/managed", "sandbox-secret")
    outcomes, _ = run(job(mode="managed", managed_provider=provider), http, sandbox_settings)
    outcomes = await outcomes
    state = await records(sandbox)
    [dispatch] = state["managed"]["dispatches"]
    assert outcomes[0].kind is OutcomeKind.RETRYABLE
    assert outcomes[-1].status == "published" and outcomes[-1].external_id == dispatch["externalId"]
    assert state["managed"]["requests"] == 2


async def test_managed_dispatch_failed_by_the_provider_is_terminal(sandbox, http, sandbox_settings):
    await faults(sandbox, managedFail={"code": "creator_banned", "message": "Banned.", "times": 1})
    provider = ManagedProvider("sandbox", f"{BASE}/managed", "sandbox-secret")
    outcomes, _ = run(job("instagram", "managed", "image", managed_provider=provider), http, sandbox_settings)
    assert_kind((await outcomes)[-1], OutcomeKind.TERMINAL, "creator_banned")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_tiktok_over_real_loopback_http():
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(processing_seconds=0.05), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        base = f"http://127.0.0.1:{port}"
        loopback = settings(tiktok_api_base=f"{base}/tiktok")
        async with create_http_client(loopback) as http:
            outcomes, _ = run(job(), http, loopback)
            final = (await outcomes)[-1]
            state = (await http.get(f"{base}/_sandbox/records")).json()
        assert final.status == "published" and final.external_id == str(
            state["tiktok"]["posts"][0]["post_id"]
        )
    finally:
        server.should_exit = True
        await task
