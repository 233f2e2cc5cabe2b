"""CONTRACT §8: `GET /v1/content/{id}` includes the approval stamps and the pending schedule."""

from __future__ import annotations


async def test_a_new_container_reads_pending_approval_with_no_pending_schedule(client, tenant):
    container = await tenant.content(media_type="image", caption="Hi", firstComment="First")

    response = await client.get(f"/v1/content/{container['id']}", headers=tenant.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body == container
    assert body["approvalStatus"] == "pending"
    assert (body["approvedAt"], body["approvedBy"], body["pendingSchedule"]) == (None, None, None)
    assert (body["mediaType"], body["caption"], body["firstComment"]) == ("image", "Hi", "First")
    assert body["createdAt"].endswith("Z") and body["updatedAt"].endswith("Z")


async def test_a_read_shows_the_latest_patch(client, tenant):
    container = await tenant.content()
    await client.patch(f"/v1/content/{container['id']}", json={"caption": "Edited"}, headers=tenant.headers)

    response = await client.get(f"/v1/content/{container['id']}", headers=tenant.headers)

    assert response.json()["caption"] == "Edited"


async def test_timestamps_are_rfc3339_utc_with_z(client, tenant):
    container = await tenant.content()

    response = await client.get(f"/v1/content/{container['id']}", headers=tenant.headers)

    body = response.json()
    assert body["createdAt"].endswith("Z") and body["updatedAt"].endswith("Z")
    assert "+00:00" not in response.text
