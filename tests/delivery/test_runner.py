"""One step of one post: each adapter outcome lands the post in the right state with the right stamps."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from crier.core import crypto
from crier.core.clock import utcnow
from crier.delivery.runner import run_claimed_post
from crier.platforms.base import Outcome
from tests.delivery.conftest import claim_one, fetch, make_due, published, retryable, terminal, tuned


async def deliver(make_or_id, adapter, http, *, settings=None, **post_fields) -> tuple[str, str]:
    post_id = make_or_id if isinstance(make_or_id, str) else await make_or_id(**post_fields)
    claim = await claim_one()
    status = await run_claimed_post(
        claim=claim, http=http, settings=settings or tuned(), adapter_for=adapter.factory
    )
    return post_id, status


def started_ago(claim, seconds: float):
    """The claim of a post whose delivery, and the platform's processing, began `seconds` ago."""
    began = claim.claimed_at - timedelta(seconds=seconds)
    return dataclasses.replace(claim, attempted_at=began, processing_started_at=began)


async def test_done_publishes_with_stamps(make_post, fake, http):
    adapter = fake(published("7301"))
    post_id, status = await deliver(make_post, adapter, http)

    row = await fetch(post_id)
    assert status == row.status == "published"
    assert row.external_id == "7301" and row.external_url.endswith("/video/7301")
    assert row.published_at is not None and row.attempted_at <= row.published_at
    assert row.due_at is None and row.lease_expires_at is None and row.last_error is None


async def test_done_as_draft_is_draft_without_published_at(make_post, fake, http):
    post_id, _ = await deliver(make_post, fake(Outcome.draft("v_inbox_1")), http, mode="draft")
    row = await fetch(post_id)
    assert row.status == "draft" and row.external_id == "v_inbox_1" and row.published_at is None


async def test_terminal_fails_with_the_platform_error_and_no_retry(make_post, fake, http):
    adapter = fake(terminal("SPAM_RISK"))
    post_id, _ = await deliver(make_post, adapter, http)
    row = await fetch(post_id)
    assert row.status == "failed" and row.retry_count == 0 and row.due_at is None
    assert row.last_error == {
        "code": "SPAM_RISK",
        "message": "TikTok refused the post.",
        "platform": "tiktok",
    }
    assert len(adapter.calls) == 1


async def test_processing_polls_again_later_without_a_lease(make_post, fake, http):
    post_id = await make_post()
    claim = started_ago(await claim_one(), 5)  # polls back off with the time already spent
    status = await run_claimed_post(
        claim=claim, http=http, settings=tuned(), adapter_for=fake(Outcome.processing()).factory
    )

    row = await fetch(post_id)
    assert status == row.status == "publishing" and row.lease_expires_at is None
    wait = (row.due_at - row.updated_at).total_seconds()
    assert 4 <= wait <= 15.5


async def test_short_polls_run_in_place_so_the_post_lands_quickly(make_post, fake, http):
    adapter = fake(Outcome.processing(), Outcome.processing(), published())
    post_id, status = await deliver(make_post, adapter, http)
    assert status == "published" and len(adapter.calls) == 3  # one claim, three steps
    assert (await fetch(post_id)).fence == 1


async def test_processing_past_the_limit_fails_with_processing_timeout(make_post, fake, http):
    post_id = await make_post()
    claim = started_ago(await claim_one(), 700)
    await run_claimed_post(
        claim=claim,
        http=http,
        settings=tuned(max_processing_seconds=600),
        adapter_for=fake(Outcome.processing()).factory,
    )

    row = await fetch(post_id)
    assert row.status == "failed" and row.last_error["code"] == "PROCESSING_TIMEOUT"
    assert "check the account before reposting" in row.last_error["message"]


async def test_retryable_backs_off_honouring_retry_after(make_post, fake, http):
    post_id, status = await deliver(make_post, fake(retryable(retry_after=30)), http)
    row = await fetch(post_id)
    assert status == row.status == "publishing" and row.retry_count == 1 and row.lease_expires_at is None
    assert 29 <= (row.due_at - row.updated_at).total_seconds() <= 31
    assert row.last_error["code"] == "RATE_LIMITED"  # visible while it retries


async def test_retries_are_bounded_then_the_post_fails_with_the_last_error(make_post, fake, http):
    adapter = fake(retryable("SERVER_ERROR"))
    post_id = await make_post()
    settings = tuned(max_attempts=3)
    for _ in range(5):
        row = await fetch(post_id)
        if row.status == "failed":
            break
        await make_due(post_id)
        claim = await claim_one()
        await run_claimed_post(claim=claim, http=http, settings=settings, adapter_for=adapter.factory)
    row = await fetch(post_id)
    assert row.status == "failed" and row.retry_count == 3 and len(adapter.calls) == 3
    assert row.last_error["code"] == "SERVER_ERROR" and "after 3 attempts" in row.last_error["message"]


async def test_an_adapter_exception_is_an_internal_retry_bounded_by_max_attempts(make_post, fake, http):
    adapter = fake(RuntimeError("bug with secret-token inside"))
    post_id = await make_post()
    settings = tuned(max_attempts=2)
    for _ in range(4):
        if (await fetch(post_id)).status == "failed":
            break
        await make_due(post_id)
        claim = await claim_one()
        await run_claimed_post(claim=claim, http=http, settings=settings, adapter_for=adapter.factory)
    row = await fetch(post_id)
    assert row.status == "failed" and row.last_error["code"] == "INTERNAL" and len(adapter.calls) == 2
    assert "secret-token" not in row.last_error["message"]


async def test_a_disconnected_account_fails_without_calling_the_platform(
    make_post, fake, admin, tenant, http
):
    await admin.disconnect(tenant.tiktok["id"])
    adapter = fake(published())
    post_id, _ = await deliver(make_post, adapter, http)
    row = await fetch(post_id)
    assert row.status == "failed" and row.last_error["code"] == "ACCOUNT_DISCONNECTED" and adapter.calls == []


async def test_the_job_resolves_overrides_and_records_the_caption_sent(make_post, fake, http):
    adapter = fake(published())
    post_id, _ = await deliver(
        make_post,
        adapter,
        http,
        caption="Container caption",
        caption_override="Override",
        first_comment_override="First!",
        tiktok_post_settings={"privacyLevel": "SELF_ONLY"},
    )
    job = adapter.calls[0].job
    assert job.caption == "Override" and job.first_comment == "First!"
    assert job.tiktok_post_settings == {"privacyLevel": "SELF_ONLY"} and job.media_urls
    assert job.account.access_token == "act.tiktok-access"
    assert job.account.refresh_token == "rft.tiktok-refresh"
    assert job.fence == 1
    assert (await fetch(post_id)).caption_sent == "Override"


async def test_instagram_jobs_drop_tiktok_fields_and_carry_the_verified_phone(make_post, fake, http):
    adapter = fake(Outcome.draft("SM1"))
    await deliver(
        make_post,
        adapter,
        http,
        platform="instagram",
        mode="draft",
        caption="Container caption",
        tiktok_post_settings={"privacyLevel": "SELF_ONLY"},
        tiktok_music={"mode": "auto"},
    )
    job = adapter.calls[0].job
    assert job.caption == "Container caption"
    assert job.tiktok_post_settings == {} and job.tiktok_music is None
    assert job.operator_phone == "+15555550100"


async def test_manual_music_carries_the_catalog_link(make_post, fake, admin, http):
    await admin.music([{"id": "trk_1", "title": "Song", "artist": "Band", "link": "https://music.example/1"}])
    adapter = fake(published())
    await deliver(make_post, adapter, http, tiktok_music={"mode": "manual", "trackId": "trk_1"})
    assert adapter.calls[0].job.tiktok_music == {
        "mode": "manual",
        "trackId": "trk_1",
        "link": "https://music.example/1",
    }


async def test_managed_jobs_carry_the_layers_provider_with_its_secret(make_post, fake, admin, tenant, http):
    layer = await admin.managed_layer(
        tenant.project["id"], base_url="https://managed.example.com/", secret="s3cret", provider="acme"
    )
    account = await admin.tiktok_account(tenant.project["id"], layerId=layer["id"], handle="managed")
    adapter = fake(published())
    await deliver(make_post, adapter, http, mode="managed", account_id=account["id"])
    provider = adapter.calls[0].job.managed_provider
    assert (provider.provider, provider.base_url, provider.signing_secret) == (
        "acme",
        "https://managed.example.com",
        "s3cret",
    )


async def test_a_rescued_post_resumes_from_its_journal(make_post, fake, http):
    """A worker dies mid-step after the platform returned a handle; the next worker resumes from it."""
    await make_post()
    started = asyncio.Event()

    async def record_then_hang(job, journal):
        await journal.record(fake_publish_id="v_pub_1")
        started.set()
        await asyncio.Event().wait()  # the worker "dies" here

    first = await claim_one(lease_seconds=1)
    dying = asyncio.create_task(
        run_claimed_post(
            claim=first,
            http=http,
            settings=tuned(lease_seconds=1),
            adapter_for=fake(record_then_hang).factory,
        )
    )
    await started.wait()
    dying.cancel()
    await asyncio.gather(dying, return_exceptions=True)
    await asyncio.sleep(1.1)  # the lease runs out: the post is due again

    def resume(job, journal):
        assert journal.handles == {"fake_publish_id": "v_pub_1"}  # never a second "init"
        return published()

    resumer = fake(resume)
    rescue = await claim_one()
    assert rescue.rescued and rescue.fence == 2
    status = await run_claimed_post(claim=rescue, http=http, settings=tuned(), adapter_for=resumer.factory)
    assert status == "published"
    assert resumer.calls[0].handles == {"fake_publish_id": "v_pub_1"}


async def test_a_worker_that_lost_its_lease_stops_before_the_irreversible_call(make_post, fake, http):
    post_id = await make_post()
    stale = await claim_one()
    await make_due(post_id)
    await claim_one()  # another worker took the post over
    calls = []

    async def irreversible(job, journal):
        await journal.record(init_sent=True)  # raises: this worker no longer owns the post
        calls.append("init")
        return published()

    status = await run_claimed_post(
        claim=stale, http=http, settings=tuned(), adapter_for=fake(irreversible).factory
    )
    assert status == "lost" and calls == []
    row = await fetch(post_id)
    assert row.status == "publishing" and row.journal == {} and row.fence == 2


@pytest.mark.parametrize("refresh", [None, ""])
async def test_token_save_never_stores_an_empty_refresh_token(make_post, tenant, session, refresh):
    from crier.delivery.store import PostDeliveryStore
    from crier.models import SocialAccount

    claim_id = await make_post()
    claim = await claim_one()
    job_account = type("A", (), {"social_account_id": tenant.tiktok["id"]})()
    journal = PostDeliveryStore(post_id=claim_id, fence=claim.fence, handles={}, account=job_account)
    await journal.save_tokens(access_token="act.new", refresh_token=refresh, token_expires_at=None)
    account = await session.get(SocialAccount, tenant.tiktok["id"], populate_existing=True)
    assert crypto.decrypt(account.access_token_encrypted) == "act.new"
    assert crypto.decrypt(account.refresh_token_encrypted) == "rft.tiktok-refresh"

    await journal.save_tokens(access_token="act.newer", refresh_token="rft.rotated", token_expires_at=None)
    account = await session.get(SocialAccount, tenant.tiktok["id"], populate_existing=True)
    assert crypto.decrypt(account.refresh_token_encrypted) == "rft.rotated"


async def test_disconnect_account_marks_it_with_the_reason(make_post, tenant, session):
    from crier.delivery.store import PostDeliveryStore
    from crier.models import SocialAccount

    post_id = await make_post()
    claim = await claim_one()
    account = type("A", (), {"social_account_id": tenant.tiktok["id"]})()
    await PostDeliveryStore(
        post_id=post_id, fence=claim.fence, handles={}, account=account
    ).disconnect_account("refresh token revoked")
    row = await session.get(SocialAccount, tenant.tiktok["id"], populate_existing=True)
    assert row.status == "reauth_required" and row.disconnected_reason == "refresh token revoked"


async def test_the_processing_budget_counts_from_the_first_processing_not_from_attempted_at(
    make_post, fake, http
):
    """An init that succeeds after long retries (attemptedAt 700 s ago) still gets its whole budget."""
    post_id = await make_post()
    claim = dataclasses.replace(await claim_one(), attempted_at=utcnow() - timedelta(seconds=700))
    adapter = fake(Outcome.processing(), published())
    status = await run_claimed_post(
        claim=claim, http=http, settings=tuned(max_processing_seconds=600), adapter_for=adapter.factory
    )

    row = await fetch(post_id)
    assert status == row.status == "published" and row.last_error is None
    assert len(adapter.calls) == 2


async def test_the_processing_start_is_stored_when_the_post_waits_for_the_sweep(
    make_post, fake, http, monkeypatch
):
    from crier.delivery import runner

    monkeypatch.setattr(runner, "INLINE_MAX_DELAY_SECONDS", 0.0)  # every wait goes back to the sweep
    post_id = await make_post()
    claim = dataclasses.replace(await claim_one(), attempted_at=utcnow() - timedelta(seconds=700))
    status = await run_claimed_post(
        claim=claim,
        http=http,
        settings=tuned(max_processing_seconds=600),
        adapter_for=fake(Outcome.processing()).factory,
    )

    row = await fetch(post_id)
    assert status == row.status == "publishing" and row.lease_expires_at is None
    assert abs((row.processing_started_at - row.updated_at).total_seconds()) < 5
    await make_due(post_id)
    assert (await claim_one()).processing_started_at == row.processing_started_at
