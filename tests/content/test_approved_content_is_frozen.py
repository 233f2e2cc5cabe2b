"""Approval covers what publishes: an approved container's media, caption and firstComment are frozen,
and no container with posts on their way goes back to `generating` (issue 8, README API section)."""

from __future__ import annotations

import pytest

from tests.publishing.helpers import later, schedule, target
from tests.support.factories import error_of

FROZEN = [
    ({"caption": "Swapped caption"}, ["caption"]),
    ({"media": [{"url": "https://cdn.example.com/swapped.mp4"}]}, ["media"]),
    ({"firstComment": "Swapped comment"}, ["firstComment"]),
    ({"caption": "x", "media": [{"url": "https://cdn.example.com/swapped.mp4"}]}, ["media", "caption"]),
]


async def _approved_and_scheduled(admin):
    tenant = await admin.tenant(requiresApproval=True)
    content = await tenant.content(caption="Approved caption", firstComment="Approved comment")
    approved = await tenant.client.post(f"/v1/content/{content['id']}/approve", headers=tenant.headers)
    assert approved.status_code == 200, approved.text
    scheduled = await schedule(tenant, content["id"], [target(tenant.tiktok)], later(hours=1))
    assert scheduled.status_code == 200, scheduled.text
    return tenant, content


@pytest.mark.parametrize(("patch", "fields"), FROZEN, ids=["caption", "media", "firstComment", "two"])
async def test_an_approved_containers_content_cannot_change(client, admin, patch, fields):
    tenant, content = await _approved_and_scheduled(admin)
    # The attack: a key that may only write content, not approve it.
    writer = await admin.api_key(tenant.organization["id"], ["content:write"])

    response = await client.patch(
        f"/v1/content/{content['id']}", json=patch, headers={"Authorization": f"Bearer {writer['key']}"}
    )

    error = error_of(response, 409, "CONFLICT")
    assert error["details"] == {"approvalStatus": "approved", "fields": fields}
    after = (await client.get(f"/v1/content/{content['id']}", headers=tenant.headers)).json()
    assert (after["caption"], after["firstComment"], after["media"]) == (
        "Approved caption",
        "Approved comment",
        content["media"],
    )


async def test_an_approved_container_cannot_go_back_to_generating(client, admin):
    tenant, content = await _approved_and_scheduled(admin)

    response = await client.patch(
        f"/v1/content/{content['id']}", json={"status": "generating"}, headers=tenant.headers
    )

    assert error_of(response, 409, "CONFLICT")["details"]["approvalStatus"] == "approved"
    after = (await client.get(f"/v1/content/{content['id']}", headers=tenant.headers)).json()
    assert after["status"] == "completed"


@pytest.mark.parametrize("gated", [True, False], ids=["stashed", "scheduled"])
async def test_a_container_with_posts_on_their_way_cannot_go_back_to_generating(client, admin, gated):
    tenant = await admin.tenant(requiresApproval=gated)
    content = await tenant.content()
    scheduled = await schedule(tenant, content["id"], [target(tenant.tiktok)], later(hours=1))
    assert scheduled.json()["gateStatus"] == ("blocked_on_approval" if gated else "queued")

    response = await client.patch(
        f"/v1/content/{content['id']}", json={"status": "generating"}, headers=tenant.headers
    )

    assert error_of(response, 409, "CONFLICT")["details"]["reason"] == "pending_posts"


async def test_once_its_posts_are_canceled_a_container_may_go_back_to_generating(client, admin):
    tenant = await admin.tenant()
    content = await tenant.content()
    post_id = (await schedule(tenant, content["id"], [target(tenant.tiktok)], later(hours=1))).json()[
        "scheduledPostIds"
    ][0]
    assert (await client.delete(f"/v1/scheduled-posts/{post_id}", headers=tenant.headers)).status_code == 200

    response = await client.patch(
        f"/v1/content/{content['id']}", json={"status": "generating"}, headers=tenant.headers
    )

    assert response.status_code == 200 and response.json()["status"] == "generating"


async def test_a_pending_container_may_still_be_edited_before_approval(client, admin):
    tenant = await admin.tenant(requiresApproval=True)
    content = await tenant.content()

    response = await client.patch(
        f"/v1/content/{content['id']}", json={"caption": "Fixed typo"}, headers=tenant.headers
    )

    assert response.status_code == 200 and response.json()["caption"] == "Fixed typo"
