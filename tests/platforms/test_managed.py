"""Managed-provider adapter against respx mocks of PLATFORMS.md §4."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import pytest
import respx

from crier.platforms.base import ManagedProvider, OutcomeKind
from crier.platforms.managed import ManagedAdapter
from crier.sandbox.managed import signature_problem
from tests.platforms.support import MANAGED_BASE, FakeJournal, assert_kind, job, settings

pytestmark = pytest.mark.asyncio


@pytest.fixture
def provider():
    with respx.mock(base_url=MANAGED_BASE, assert_all_called=False) as router:
        router.dispatch = router.post("/v1/dispatches").mock(
            return_value=httpx.Response(202, json={"dispatchId": "d1", "status": "accepted"})
        )
        router.read = router.get("/v1/dispatches/d1").mock(
            return_value=httpx.Response(
                200,
                json={
                    "status": "published",
                    "externalId": "7291234567890123456",
                    "externalUrl": "https://www.tiktok.com/@creator/video/7291234567890123456",
                    "error": None,
                },
            )
        )
        yield router


@pytest.fixture
async def adapter():
    async with httpx.AsyncClient() as http:
        yield ManagedAdapter(http=http, settings=settings())


async def test_dispatch_is_signed_over_the_exact_bytes_and_idempotent_on_the_post_id(provider, adapter):
    delivery = job(
        "tiktok",
        "managed",
        "multi",
        first_comment="hi",
        tiktok_post_settings={"privacyLevel": "SELF_ONLY"},
        tiktok_music={"mode": "manual", "trackId": "t1", "link": "https://music.test/t1"},
    )
    journal = FakeJournal()

    assert_kind(await adapter.advance(delivery, journal), OutcomeKind.PROCESSING)

    request = provider.dispatch.calls[0].request
    assert request.headers["Idempotency-Key"] == delivery.post_id
    header = request.headers["X-Crier-Signature"]
    t, v1 = (part.split("=", 1)[1] for part in header.split(","))
    assert abs(int(t) - time.time()) < 5
    assert v1 == hmac.new(b"whsec", f"{t}.".encode() + request.content, hashlib.sha256).hexdigest()
    assert signature_problem(header, request.content, "whsec", 300) is None
    assert signature_problem(header, request.content + b" ", "whsec", 300) is not None
    assert json.loads(request.content) == {
        "scheduledPostId": delivery.post_id,
        "platform": "tiktok",
        "account": {"externalAccountId": "open-1", "handle": "creator"},
        "mediaType": "multi",
        "media": delivery.media_urls,
        "caption": "Hello world #crier",
        "firstComment": "hi",
        "tiktokPostSettings": {"privacyLevel": "SELF_ONLY"},
        "tiktokMusicLink": "https://music.test/t1",
    }
    assert journal.writes == [{"managed_dispatch_id": "d1"}]


@pytest.mark.parametrize("music", [None, {"mode": "auto"}, {"mode": "none"}])
async def test_music_link_only_for_manual_and_post_settings_only_for_tiktok(provider, adapter, music):
    await adapter.advance(
        job(
            "instagram",
            "managed",
            "image",
            tiktok_music=music,
            tiktok_post_settings={"privacyLevel": "SELF_ONLY"},
        ),
        FakeJournal(),
    )
    body = json.loads(provider.dispatch.calls[0].request.content)
    assert (
        body["tiktokMusicLink"] is None
        and body["tiktokPostSettings"] is None
        and body["platform"] == "instagram"
    )


async def test_status_published_is_done_with_the_providers_ids(provider, adapter):
    done = await adapter.advance(job(mode="managed"), FakeJournal(managed_dispatch_id="d1"))
    assert (done.kind, done.status, done.external_id) == (
        OutcomeKind.DONE,
        "published",
        "7291234567890123456",
    )
    assert done.external_url.endswith("/video/7291234567890123456") and provider.dispatch.call_count == 0


async def test_status_pending_is_processing_and_failed_is_terminal_with_its_error(provider, adapter):
    provider.read.mock(
        side_effect=[
            httpx.Response(200, json={"status": "pending"}),
            httpx.Response(
                200, json={"status": "failed", "error": {"code": "creator_banned", "message": "Banned."}}
            ),
        ]
    )
    journal = FakeJournal(managed_dispatch_id="d1")
    assert_kind(await adapter.advance(job(mode="managed"), journal), OutcomeKind.PROCESSING)
    outcome = await adapter.advance(job(mode="managed"), journal)
    assert_kind(outcome, OutcomeKind.TERMINAL, "creator_banned")
    assert outcome.error.message == "Banned."


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(503),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("down"),
        httpx.Response(429, headers={"Retry-After": "2"}),
    ],
)
async def test_dispatch_failures_are_retried_by_dispatching_again(provider, adapter, failure):
    provider.dispatch.mock(side_effect=[failure, httpx.Response(202, json={"dispatchId": "d1"})])
    journal = FakeJournal()
    assert_kind(await adapter.advance(job(mode="managed"), journal), OutcomeKind.RETRYABLE)
    assert_kind(await adapter.advance(job(mode="managed"), journal), OutcomeKind.PROCESSING)
    keys = {call.request.headers["Idempotency-Key"] for call in provider.dispatch.calls}
    assert provider.dispatch.call_count == 2 and keys == {job().post_id}


async def test_refused_dispatch_is_terminal(provider, adapter):
    provider.dispatch.mock(
        return_value=httpx.Response(
            401, json={"error": {"code": "invalid_signature", "message": "bad signature"}}
        )
    )
    outcome = await adapter.advance(job(mode="managed"), FakeJournal())
    assert_kind(outcome, OutcomeKind.TERMINAL, "MANAGED_HTTP_401")
    assert outcome.error.message == "bad signature"


async def test_provider_on_a_private_address_is_refused_unless_allow_listed(provider):
    delivery = job(
        mode="managed", managed_provider=ManagedProvider("acme", "http://127.0.0.1:9/managed", "s")
    )
    async with httpx.AsyncClient() as http:
        refused = await ManagedAdapter(http=http, settings=settings()).advance(delivery, FakeJournal())
    assert_kind(refused, OutcomeKind.TERMINAL, "MANAGED_PROVIDER_URL_REFUSED")
    assert provider.dispatch.call_count == 0


async def test_missing_provider_is_terminal(adapter):
    outcome = await adapter.advance(job(mode="managed", managed_provider=None), FakeJournal())
    assert_kind(outcome, OutcomeKind.TERMINAL, "MANAGED_PROVIDER_MISSING")
