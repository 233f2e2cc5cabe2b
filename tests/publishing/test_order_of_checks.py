"""CONTRACT §4: when several checks fail, the first in the contract's order answers."""

from __future__ import annotations

from tests.publishing.helpers import count_posts, error_of, publish, schedule, sp_id, target


def code(response) -> tuple[int, str]:
    return response.status_code, error_of(response)["code"]


async def test_auth_comes_before_the_body(client, tenant):
    response = await client.post("/v1/content/cnt_x/publish", json={"targets": []})
    assert code(response) == (401, "UNAUTHORIZED")


async def test_scope_comes_before_the_body(client, admin):
    reader = await admin.tenant(scopes=["publish:read"])
    response = await publish(reader, "cnt_x", [])
    assert code(response) == (403, "FORBIDDEN_SCOPE")


async def test_the_body_comes_before_the_container(client, tenant, admin):
    other = await admin.tenant()
    foreign = await other.content()
    response = await publish(tenant, foreign["id"], [target(tenant.tiktok, "sideways")])
    assert code(response) == (422, "VALIDATION")


async def test_the_container_comes_before_the_accounts(client, tenant, admin):
    other = await admin.tenant()
    foreign = await other.content()
    response = await publish(tenant, foreign["id"], [target(other.tiktok)])
    assert code(response) == (404, "NOT_FOUND") and "socialAccountId" not in error_of(response)["details"]


async def test_container_state_comes_before_the_accounts(client, tenant):
    content = await tenant.content(status="generating")
    response = await publish(tenant, content["id"], [{"socialAccountId": "sa_unknown", "mode": "publish"}])
    assert code(response) == (409, "CONFLICT")


async def test_a_missing_account_comes_before_a_project_mismatch(client, tenant, admin):
    project = await admin.project(tenant.organization["id"], name="Second")
    elsewhere = await admin.tiktok_account(project["id"])
    content = await tenant.content()
    response = await publish(
        tenant, content["id"], [target(elsewhere), {"socialAccountId": "sa_x", "mode": "publish"}]
    )
    assert code(response) == (404, "NOT_FOUND") and error_of(response)["details"]["socialAccountId"] == "sa_x"


async def test_a_project_mismatch_comes_before_cross_field_checks(client, tenant, admin):
    project = await admin.project(tenant.organization["id"], name="Second")
    elsewhere = await admin.instagram_account(project["id"])
    content = await tenant.content(media_type="image")
    response = await publish(tenant, content["id"], [target(elsewhere, shareReelToFeed=True)])
    assert error_of(response)["details"]["reason"] == "project_mismatch"


async def test_cross_field_checks_come_before_readiness(client, tenant, admin):
    await admin.disconnect(tenant.tiktok["id"])
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.tiktok, shareReelToFeed=True)])
    assert (
        code(response) == (422, "VALIDATION")
        and error_of(response)["details"]["reason"] == "non_instagram_target"
    )


async def test_readiness_comes_before_the_approval_gate(client, admin):
    tenant = await admin.tenant(requiresApproval=True)
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.tiktok, "managed")])
    assert code(response) == (422, "SOCIAL_ACCOUNT_NOT_PUBLISH_READY")


async def test_the_approval_gate_comes_before_duplicate_ids(client, admin, session):
    tenant = await admin.tenant(requiresApproval=True)
    content = await tenant.content()
    taken = sp_id()
    assert (
        await schedule(tenant, content["id"], [target(tenant.tiktok, scheduledPostId=taken)])
    ).status_code == 200
    response = await publish(tenant, content["id"], [target(tenant.tiktok, scheduledPostId=taken)])
    assert code(response) == (403, "APPROVAL_REQUIRED")
    assert await count_posts(session) == 1
