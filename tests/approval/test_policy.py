"""CONTRACT §5: GET /v1/projects/{id}/approval-policy."""

from __future__ import annotations

from tests.publishing.helpers import assert_error


async def policy(tenant, project_id: str):
    return await tenant.client.get(f"/v1/projects/{project_id}/approval-policy", headers=tenant.headers)


async def test_the_policy_reports_the_counter_and_whether_the_gate_is_open(client, admin):
    tenant = await admin.tenant(requiresApproval=True, firstNPostsBlocked=1)
    response = await policy(tenant, tenant.project["id"])
    assert response.json() == {
        "projectId": tenant.project["id"],
        "requiresApproval": True,
        "firstNPostsBlocked": 1,
        "currentBlockedCount": 0,
        "gateOpen": False,
    }
    content = await tenant.content()
    await client.post(f"/v1/content/{content['id']}/approve", headers=tenant.headers)
    after = (await policy(tenant, tenant.project["id"])).json()
    assert after["currentBlockedCount"] == 1 and after["gateOpen"] is True


async def test_a_project_without_approval_has_an_open_gate(client, tenant):
    body = (await policy(tenant, tenant.project["id"])).json()
    assert (
        body["requiresApproval"] is False and body["gateOpen"] is True and body["firstNPostsBlocked"] is None
    )


async def test_another_organizations_project_is_not_found(client, admin, tenant):
    other = await admin.tenant()
    assert_error(await policy(tenant, other.project["id"]), 404, "NOT_FOUND")
    assert_error(await policy(tenant, "prj_nope"), 404, "NOT_FOUND")


async def test_reading_the_policy_needs_content_read(client, admin):
    tenant = await admin.tenant(scopes=["publish:write"])
    assert_error(
        await policy(tenant, tenant.project["id"]), 403, "FORBIDDEN_SCOPE", requiredScope="content:read"
    )
