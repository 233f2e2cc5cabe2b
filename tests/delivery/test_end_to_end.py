"""The real adapters against the loopback sandbox, driven by the delivery loop: posts land, once each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from crier.core import crypto
from crier.core.ids import new_id
from crier.delivery.loop import DeliveryLoop
from crier.models import Layer, SocialAccount
from crier.platforms.http import create_http_client
from crier.sandbox.wiring import platform_settings
from tests.delivery.conftest import fetch, tuned
from tests.delivery.test_worker import run_arq_worker, wait_for_status
from tests.support.sandbox import running_sandbox
from tests.support.wakeups import forget_wake_up

# arq 0.28 calls redis-py's deprecated close(); not ours to fix (as in test_worker.py).
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")


@pytest.fixture
async def sandbox() -> AsyncIterator[str]:
    async with running_sandbox() as base_url:
        yield base_url


@asynccontextmanager
async def delivery_loop(sandbox: str, **changes) -> AsyncIterator[None]:
    """A delivery loop with the real adapters, whose settings point every platform at the sandbox."""
    settings = tuned(**platform_settings(sandbox), platform_timeout_seconds=5, **changes)
    http = create_http_client(settings)
    loop = DeliveryLoop(settings=settings, http=http)
    await loop.start()
    try:
        yield
    finally:
        await loop.stop(grace_seconds=5)
        await http.aclose()


@pytest.fixture
async def delivering(sandbox) -> AsyncIterator[None]:
    async with delivery_loop(sandbox, worker_sweep_interval_seconds=0.1):
        yield


async def records(sandbox: str) -> dict:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{sandbox}/_sandbox/records")).json()


async def managed_account(session, tenant, sandbox: str) -> str:
    """A TikTok account in a managed layer whose provider is the sandbox (written directly: the operator
    API rightly refuses loopback provider URLs outside the allow-list)."""
    organization_id, project_id = tenant.organization["id"], tenant.project["id"]
    layer = Layer(
        id=new_id("lyr"),
        organization_id=organization_id,
        project_id=project_id,
        template_id="af058068-ad85-4fb8-92a1-f531b40bfcbc",
        config={"provider": "sandbox", "baseUrl": f"{sandbox}/managed"},
        signing_secret_encrypted=crypto.encrypt("sandbox-secret"),
    )
    account = SocialAccount(
        id=new_id("sa"),
        organization_id=organization_id,
        project_id=project_id,
        layer_id=layer.id,
        platform="tiktok",
        handle="managed",
        external_account_id="tt-managed",
        access_token_encrypted=crypto.encrypt("act.m"),
        granted_scopes=["video.publish"],
        status="connected",
    )
    session.add(layer)
    await session.flush()
    session.add(account)
    await session.commit()
    return account.id


async def test_every_mode_lands_once_through_the_sandbox(make_post, session, tenant, sandbox, delivering):
    managed = await managed_account(session, tenant, sandbox)
    posts = {
        "tiktok video": (await make_post(caption="tiktok video"), "published"),
        "tiktok photos": (await make_post(media_type="multi", caption="tiktok photos"), "published"),
        "tiktok draft": (await make_post(mode="draft", caption="tiktok draft"), "draft"),
        "instagram image": (
            await make_post(
                platform="instagram",
                media_type="image",
                caption="instagram image",
                first_comment_override="first!",
            ),
            "published",
        ),
        "instagram draft": (
            await make_post(
                platform="instagram", mode="draft", media_type="image", caption="instagram draft"
            ),
            "draft",
        ),
        "managed": (await make_post(mode="managed", account_id=managed, caption="managed"), "published"),
    }
    for name, (post_id, status) in posts.items():
        await wait_for_status(post_id, status, within=15)
        row = await fetch(post_id)
        assert row.caption_sent == name and row.last_error is None, name
        if status == "published":
            assert row.external_url and row.published_at, name

    seen = await records(sandbox)
    assert seen["duplicates"] == []
    # (a video draft carries no caption: the sandbox counts it under its video URL)
    assert sum(seen["createdPerCaption"]["tiktok"].values()) == 3
    assert {"tiktok video", "tiktok photos"} <= set(seen["createdPerCaption"]["tiktok"])
    assert seen["createdPerCaption"]["instagram"] == {"instagram image": 1}
    [(sms_body, sms_count)] = seen["createdPerCaption"]["twilio"].items()
    assert sms_body.endswith("instagram draft") and sms_count == 1
    assert seen["createdPerCaption"]["managed"] == {"managed": 1}
    assert [comment.get("message") for comment in seen["instagram"]["comments"]] == ["first!"]


async def test_a_transient_platform_error_is_retried_and_posts_once(make_post, sandbox, delivering):
    async with httpx.AsyncClient() as client:
        await client.post(
            f"{sandbox}/_sandbox/faults",
            json={"calls": [{"endpoint": "tiktok.creator_info", "status": 500, "error": "internal_error"}]},
        )
    post_id = await make_post(caption="flaky")
    await wait_for_status(post_id, "published", within=15)
    assert (await fetch(post_id)).retry_count == 1
    assert (await records(sandbox))["createdPerCaption"]["tiktok"] == {"flaky": 1}


async def test_a_lost_init_answer_fails_the_post_instead_of_posting_twice(make_post, sandbox, delivering):
    async with httpx.AsyncClient() as client:
        await client.post(
            f"{sandbox}/_sandbox/faults",
            json={"calls": [{"endpoint": "tiktok.video_init", "apply": True, "status": 502}]},
        )  # acts, then answers garbage
    post_id = await make_post(caption="ambiguous")
    await wait_for_status(post_id, "failed", within=20)
    assert (await fetch(post_id)).last_error["code"] == "OUTCOME_UNKNOWN"
    assert (await records(sandbox))["createdPerCaption"]["tiktok"] == {"ambiguous": 1}


async def test_a_post_published_through_the_api_is_delivered_on_its_wake_up(client, tenant, sandbox):
    await forget_wake_up()
    # The sweep is 30 s away: only the API's wake-up (an arq job) can deliver this post quickly.
    settings = tuned(
        **platform_settings(sandbox), platform_timeout_seconds=5, worker_sweep_interval_seconds=30
    )
    _worker, stop = await run_arq_worker(ctx={"settings": settings, "shutdown_grace_seconds": 5})
    try:
        await asyncio.sleep(0.5)
        content = await tenant.content(caption="via the api")
        target = {"socialAccountId": tenant.tiktok["id"], "mode": "publish"}
        response = await client.post(
            f"/v1/content/{content['id']}/publish", headers=tenant.headers, json={"targets": [target]}
        )
        assert response.status_code in (200, 201, 202), response.text
        [post_id] = response.json()["scheduledPostIds"]
        assert await wait_for_status(post_id, "published", within=10) < 5
    finally:
        await stop()

    post = (await client.get(f"/v1/scheduled-posts/{post_id}", headers=tenant.headers)).json()
    assert post["status"] == "published" and post["externalUrl"].startswith(
        "https://www.tiktok.com/@creator/"
    )
    assert post["attemptedAt"] and post["publishedAt"] and post["lastError"] is None
    assert (await records(sandbox))["createdPerCaption"]["tiktok"] == {"via the api": 1}
