"""The SDK against the real Crier API over loopback HTTP: a partner's whole day, and the typed errors.

The API runs in the tests' event loop (uvicorn), so the async client is called directly and the
sync client from a thread (it blocks; the loop keeps serving).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from crier_sdk import (
    ApprovalRequiredError,
    AsyncCrier,
    Crier,
    ForbiddenScopeError,
    NotFoundError,
    Target,
    UnprocessableEntityError,
)

MEDIA = ["https://cdn.example.com/launch.mp4"]


@pytest.fixture
async def partner(crier_url, tenant):
    async with AsyncCrier(tenant.key["key"], base_url=crier_url) as crier:
        yield crier


async def test_create_publish_get_list_and_cancel_a_schedule(partner, tenant):
    project_id = tenant.project["id"]
    container = await partner.content.create(
        project_id=project_id, media_type="video", media=MEDIA, caption="Launch day"
    )
    published = await partner.publishing.publish_now(
        container_id=container.id, targets=[{"socialAccountId": tenant.tiktok["id"], "mode": "publish"}]
    )
    later = datetime.now(UTC) + timedelta(days=1)
    scheduled = await partner.publishing.schedule(
        container.id,
        scheduled_for=later,
        targets=[Target(social_account_id=tenant.instagram["id"], mode="publish")],
    )

    post = await partner.scheduled_posts.get(published.scheduled_post_ids[0])
    listed = [item async for item in partner.scheduled_posts.list(project_id, limit=1)]
    canceled = await partner.scheduled_posts.cancel(scheduled.scheduled_post_ids[0])
    reread = await partner.content.get(container.id)

    assert container.status == "completed" and reread.caption == "Launch day"
    assert post.container_id == container.id and post.platform == "tiktok"
    assert post.status in ("scheduled", "publishing", "published")
    assert (
        scheduled.gate_status == "queued" and abs((scheduled.scheduled_for - later).total_seconds()) < 0.001
    )
    # limit=1: two pages, walked through the cursor, in scheduledFor order
    assert [item.id for item in listed] == [published.scheduled_post_ids[0], scheduled.scheduled_post_ids[0]]
    assert canceled.status == "canceled" and canceled.canceled_at is not None
    assert (await partner.scheduled_posts.get(scheduled.scheduled_post_ids[0])).status == "canceled"


async def test_the_sync_client_does_the_same_over_http(crier_url, tenant):
    def day() -> tuple[str, str]:
        with Crier(tenant.key["key"], base_url=crier_url) as crier:
            container = crier.content.create(project_id=tenant.project["id"], media_type="video", media=MEDIA)
            result = crier.publishing.publish_now(
                container_id=container.id, targets=[{"socialAccountId": tenant.tiktok["id"], "mode": "draft"}]
            )
            post = crier.scheduled_posts.get(result.scheduled_post_ids[0])
            return post.container_id, container.id

    post_container, container_id = await asyncio.to_thread(day)

    assert post_container == container_id


async def test_a_replayed_publish_answers_the_same_ids(partner, tenant):
    container = await partner.content.create(project_id=tenant.project["id"], media_type="video", media=MEDIA)
    targets = [{"socialAccountId": tenant.tiktok["id"], "mode": "publish"}]

    first = await partner.publishing.publish_now(
        container_id=container.id, targets=targets, idempotency_key="k-1"
    )
    again = await partner.publishing.publish_now(
        container_id=container.id, targets=targets, idempotency_key="k-1"
    )

    assert again.scheduled_post_ids == first.scheduled_post_ids
    assert len([post async for post in partner.scheduled_posts.list(tenant.project["id"])]) == 1


async def test_approval_reads_and_flips_through_the_sdk(crier_url, admin):
    tenant = await admin.tenant(requiresApproval=True, firstNPostsBlocked=None)
    async with AsyncCrier(tenant.key["key"], base_url=crier_url) as partner:
        container = await partner.content.create(
            project_id=tenant.project["id"], media_type="video", media=MEDIA
        )
        policy = await partner.projects.approval_policy(tenant.project["id"])
        with pytest.raises(ApprovalRequiredError) as raised:
            await partner.publishing.publish_now(
                container_id=container.id,
                targets=[{"socialAccountId": tenant.tiktok["id"], "mode": "publish"}],
            )
        approval = await partner.content.approve(container.id, note="Looks good.")

    assert policy.requires_approval and not policy.gate_open
    assert raised.value.status == 403 and raised.value.code == "APPROVAL_REQUIRED"
    assert approval.approved_by == tenant.key["id"] and approval.approval_note == "Looks good."


async def test_accounts_and_music_read_back(partner, tenant, admin):
    await admin.music(
        [
            {
                "id": "8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999",
                "title": "Song",
                "artist": "Band",
                "link": "https://music.example.com/song",
            }
        ]
    )

    accounts = await partner.accounts.list(project_id=tenant.project["id"])
    tracks = await partner.music.list()

    assert {account.id for account in accounts} == {tenant.tiktok["id"], tenant.instagram["id"]}
    assert [track.title for track in tracks] == ["Song"]


async def test_an_unknown_container_is_a_typed_404(partner):
    with pytest.raises(NotFoundError) as raised:
        await partner.content.get("cnt_00000000-0000-4000-8000-000000000000")

    assert raised.value.code == "NOT_FOUND" and raised.value.request_id.startswith("req_")


async def test_an_invalid_body_is_a_typed_422_with_the_paths(partner):
    with pytest.raises(UnprocessableEntityError) as raised:
        await partner.publishing.publish_now(
            container_id="cnt_00000000-0000-4000-8000-000000000000", targets=[]
        )

    assert raised.value.code == "VALIDATION"
    assert any("targets" in error["path"] for error in raised.value.details["errors"])


async def test_a_key_without_the_scope_is_a_typed_403(crier_url, admin, tenant):
    read_only = await admin.api_key(tenant.organization["id"], scopes=["content:read"])
    async with AsyncCrier(read_only["key"], base_url=crier_url) as partner:
        with pytest.raises(ForbiddenScopeError) as raised:
            await partner.content.create(project_id=tenant.project["id"], media_type="video", media=MEDIA)

    assert raised.value.status == 403 and raised.value.details == {"requiredScope": "content:write"}
