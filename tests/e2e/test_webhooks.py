"""WEBHOOKS.md end to end: the real `crier worker` sends every event type to the sandbox's receiver."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from crier.core.settings import get_settings
from crier.webhooks import verify
from crier.webhooks.events import EVENT_TYPES
from tests.e2e.support import target
from tests.support.factories import Tenant


class Hook:
    """A webhook endpoint of one organization, pointing at the sandbox's receiver."""

    def __init__(self, sandbox_url: str, name: str, secret: str, endpoint: dict[str, Any]) -> None:
        self.sandbox_url, self.name, self.secret, self.endpoint = sandbox_url, name, secret, endpoint

    async def received(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient() as http:
            response = await http.get(f"{self.sandbox_url}/_sandbox/webhooks", params={"name": self.name})
        return response.json()["items"]

    async def configure(self, **script: Any) -> None:
        async with httpx.AsyncClient() as http:
            (
                await http.post(f"{self.sandbox_url}/_sandbox/webhooks/{self.name}", json=script)
            ).raise_for_status()

    async def events(self, *, until: int | str, within: float = 10.0) -> list[dict[str, Any]]:
        """The events received once `until` of them (or one of type `until`) arrived, answered 2xx first."""
        deadline = time.monotonic() + within
        while True:
            items = await self.received()
            delivered = [item for item in items if item["answered"] == 200]
            done = (
                len(delivered) >= until
                if isinstance(until, int)
                else any(item["event"]["type"] == until for item in delivered)
            )
            if done:
                for item in items:  # every request the worker made is signed with the endpoint's secret
                    assert item["signatureValid"] is True and verify(
                        self.secret, item["signature"], item["body"]
                    )
                    assert item["eventId"] == item["event"]["id"]
                return [item["event"] for item in delivered]
            assert time.monotonic() < deadline, items
            await asyncio.sleep(0.1)


async def register(client, tenant: Tenant, sandbox, name: str = "e2e", events=EVENT_TYPES) -> Hook:
    response = await client.post(
        "/v1/webhook-endpoints",
        headers=tenant.headers,
        json={"url": f"{sandbox.url}/webhooks/{name}", "events": list(events)},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    hook = Hook(sandbox.url, name, body["signingSecret"], body["endpoint"])
    await hook.configure(secrets=[body["signingSecret"]])
    return hook


@pytest.fixture
def loopback_allowed(monkeypatch):
    monkeypatch.setattr(get_settings(), "url_allowlist", ["127.0.0.1"])


@pytest.fixture
async def hook(client, partner, sandbox, loopback_allowed) -> Hook:
    return await register(client, partner.tenant, sandbox)


def of_post(events: list[dict[str, Any]], post_id: str) -> list[tuple[str, int]]:
    return [(e["type"], e["data"]["sequence"]) for e in events if e["data"].get("scheduledPostId") == post_id]


async def test_a_published_post_sends_scheduled_then_published(partner, hook):
    content = await partner.content("video", caption="hooked")
    [post_id] = await partner.publish(content, target(partner.tiktok, "publish"))
    post = await partner.settled(post_id)
    events = await hook.events(until="post.published")
    assert of_post(events, post_id) == [("post.scheduled", 1), ("post.published", 2)]
    published = events[-1]
    assert published["data"] | {"publishedAt": None, "scheduledFor": None} == {
        "scheduledPostId": post_id,
        "containerId": content["id"],
        "socialAccountId": partner.tiktok["id"],
        "platform": "tiktok",
        "mode": "publish",
        "scheduledFor": None,
        "status": "published",
        "sequence": 2,
        "externalId": post["externalId"],
        "externalUrl": post["externalUrl"],
        "publishedAt": None,
    }
    assert published["data"]["publishedAt"] == post["publishedAt"]
    assert published["organizationId"] == partner.tenant.organization["id"]
    assert published["projectId"] == partner.tenant.project["id"]


async def test_a_draft_sends_post_draft(partner, hook):
    content = await partner.content("video", caption="to the inbox")
    [post_id] = await partner.publish(content, target(partner.tiktok, "draft"))
    post = await partner.settled(post_id)
    events = await hook.events(until="post.draft")
    assert of_post(events, post_id) == [("post.scheduled", 1), ("post.draft", 2)]
    assert events[-1]["data"]["externalId"] == post["externalId"]


async def test_a_failed_post_sends_post_failed_with_its_last_error(partner, sandbox, hook):
    await sandbox.faults(tiktokFail={"reason": "duration_check_failed", "times": 1})
    content = await partner.content("video", caption="too long")
    [post_id] = await partner.publish(content, target(partner.tiktok, "publish"))
    post = await partner.settled(post_id)
    events = await hook.events(until="post.failed")
    assert of_post(events, post_id) == [("post.scheduled", 1), ("post.failed", 2)]
    assert events[-1]["data"]["lastError"] == post["lastError"]


async def test_a_canceled_post_sends_post_canceled(partner, client, hook):
    content = await partner.content("video", caption="never mind")
    [post_id] = await partner.schedule(
        content, target(partner.tiktok, "publish"), at=datetime.now(UTC) + timedelta(hours=1)
    )
    assert (await partner.cancel(post_id)).status_code == 200
    events = await hook.events(until="post.canceled")
    assert of_post(events, post_id) == [("post.scheduled", 1), ("post.canceled", 2)]
    assert events[-1]["data"]["canceledAt"] == (await partner.post(post_id))["canceledAt"]


async def test_approval_and_rejection_send_content_events(client, admin, sandbox, loopback_allowed):
    tenant = await admin.tenant(requiresApproval=True)
    hook = await register(client, tenant, sandbox, name="approvals")
    approved, rejected = await tenant.content(caption="yes"), await tenant.content(caption="no")
    assert (
        await client.post(f"/v1/content/{approved['id']}/approve", headers=tenant.headers)
    ).status_code == 200
    assert (
        await client.post(
            f"/v1/content/{rejected['id']}/reject", headers=tenant.headers, json={"reason": "off brand"}
        )
    ).status_code == 200
    events = await hook.events(until=2)
    assert [(e["type"], e["data"]["id"]) for e in events] == [
        ("content.approved", approved["id"]),
        ("content.rejected", rejected["id"]),
    ]
    assert events[1]["data"]["reason"] == "off brand"


async def test_a_refused_token_refresh_sends_needs_reauth(client, admin, sandbox, partner, loopback_allowed):
    tenant = partner.tenant
    hook = await register(client, tenant, sandbox, name="reauth")
    expired = await admin.tiktok_account(
        tenant.project["id"],
        handle="expired",
        externalAccountId="tt-expired",
        tokenExpiresAt="2020-01-01T00:00:00Z",
    )
    await sandbox.faults(calls=[{"endpoint": "tiktok.oauth_token", "error": "invalid_grant", "times": 5}])
    content = await partner.content("video", caption="stale token")
    [post_id] = await partner.publish(content, target(expired, "publish"))
    await partner.settled(post_id)
    events = await hook.events(until="social_account.needs_reauth")
    [reauth] = [e for e in events if e["type"] == "social_account.needs_reauth"]
    assert reauth["data"]["socialAccountId"] == expired["id"] and reauth["data"]["handle"] == "expired"
    assert reauth["data"]["platform"] == "tiktok" and reauth["data"]["reason"]


async def test_test_ping_arrives(client, partner, hook):
    response = await client.post(
        f"/v1/webhook-endpoints/{hook.endpoint['id']}/test", headers=partner.tenant.headers
    )
    assert response.status_code == 202
    [event] = await hook.events(until="test.ping")
    assert event["data"] == {"endpointId": hook.endpoint["id"]} and event["id"] == response.json()["eventId"]


async def test_a_receiver_that_fails_for_a_while_gets_the_same_event_again(client, partner, hook):
    await hook.configure(failStatus=503, failCount=3, retryAfter="0")
    response = await client.post(
        f"/v1/webhook-endpoints/{hook.endpoint['id']}/test", headers=partner.tenant.headers
    )
    [event] = await hook.events(until="test.ping")
    tries = await hook.received()
    assert [item["answered"] for item in tries] == [503, 503, 503, 200]
    assert {item["eventId"] for item in tries} == {event["id"]} and len({item["body"] for item in tries}) == 1
    deadline = time.monotonic() + 5
    while True:  # the worker records the outcome at its next turn, just after the receiver answered
        deliveries = (
            await client.get(
                f"/v1/webhook-endpoints/{hook.endpoint['id']}/deliveries", headers=partner.tenant.headers
            )
        ).json()["items"]
        if deliveries[0]["status"] != "delivering" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert [(d["id"], d["status"], d["attempts"], d["lastResponseStatus"]) for d in deliveries] == [
        (response.json()["id"], "delivered", 4, 200)
    ]


async def test_a_dead_receiver_never_delays_post_delivery(client, partner, hook):
    await hook.configure(failCount=-1, delaySeconds=3.0, failStatus=503)  # slow and failing
    content = await partner.content("video", caption="unbothered")
    started = time.monotonic()
    [post_id] = await partner.publish(content, target(partner.tiktok, "publish"))
    post = await partner.settled(post_id, within=5)
    assert post["status"] == "published" and time.monotonic() - started < 3.0
    await hook.configure(failCount=0, delaySeconds=0)
