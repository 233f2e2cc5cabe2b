"""WEBHOOKS.md §1: endpoint CRUD, the secret shown once, scopes, validation, cross-organization 404."""

from __future__ import annotations

import re
import uuid

from crier.core import crypto
from crier.core.settings import get_settings
from tests.publishing.helpers import assert_error, sql, write_sql
from tests.support.factories import bearer
from tests.webhooks.conftest import RECEIVER_URL, endpoint_body

ENDPOINT_ID = re.compile(r"whe_[0-9a-f-]{36}")
SECRET = re.compile(r"whsec_[A-Za-z0-9_-]{43}")


async def test_create_answers_the_endpoint_and_its_secret_once(client, tenant, session):
    response = await client.post(
        "/v1/webhook-endpoints",
        headers=tenant.headers,
        json=endpoint_body(description="orders", metadata={"team": "growth"}),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"endpoint", "signingSecret"}
    assert SECRET.fullmatch(body["signingSecret"])
    endpoint = body["endpoint"]
    assert ENDPOINT_ID.fullmatch(endpoint["id"])
    assert endpoint | {"id": None, "createdAt": None, "updatedAt": None} == {
        "id": None,
        "url": RECEIVER_URL,
        "events": endpoint_body()["events"],
        "description": "orders",
        "projectId": None,
        "metadata": {"team": "growth"},
        "status": "active",
        "consecutiveFailures": 0,
        "createdAt": None,
        "updatedAt": None,
    }
    [(stored,)] = await sql(session, "SELECT secret_encrypted FROM webhook_endpoints")
    assert body["signingSecret"] not in stored and crypto.decrypt(stored) == body["signingSecret"]
    read = await client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers)
    assert read.status_code == 200 and read.json() == endpoint
    assert "whsec_" not in read.text


async def test_unknown_event_is_422_naming_the_field(client, tenant, session):
    response = await client.post(
        "/v1/webhook-endpoints",
        headers=tenant.headers,
        json=endpoint_body(events=["post.published", "post.exploded"]),
    )
    error = assert_error(response, 422, "VALIDATION")
    assert [e["field"] for e in error["details"]["errors"]] == ["events[1]"]
    assert (await sql(session, "SELECT count(*) FROM webhook_endpoints"))[0][0] == 0


async def test_delete_abandons_the_pending_deliveries_and_keeps_the_rest(
    client, tenant, create_endpoint, session
):
    endpoint_id = (await create_endpoint(events=["test.ping"]))["endpoint"]["id"]
    pings = [
        (await client.post(f"/v1/webhook-endpoints/{endpoint_id}/test", headers=tenant.headers)).json()["id"]
        for _ in range(3)
    ]
    delivered, in_flight, pending = pings
    await write_sql(
        session,
        "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), next_retry_at = NULL WHERE id = :id",
        id=delivered,
    )
    await write_sql(
        session, "UPDATE webhook_deliveries SET status = 'delivering', claim = 1 WHERE id = :id", id=in_flight
    )

    response = await client.delete(f"/v1/webhook-endpoints/{endpoint_id}", headers=tenant.headers)

    assert response.status_code == 200 and response.json()["id"] == endpoint_id
    rows = await sql(
        session,
        "SELECT id, status, abandoned_at IS NOT NULL, next_retry_at, endpoint_id FROM webhook_deliveries",
    )
    assert sorted(rows) == sorted(
        [
            (delivered, "delivered", False, None, None),
            (in_flight, "abandoned", True, None, None),
            (pending, "abandoned", True, None, None),
        ]
    )
    replayed = await client.post(f"/v1/webhook-deliveries/{pending}/replay", headers=tenant.headers)
    assert_error(replayed, 404, "NOT_FOUND")


async def test_events_must_be_1_to_50(client, tenant):
    assert_error(
        await client.post("/v1/webhook-endpoints", headers=tenant.headers, json=endpoint_body(events=[])),
        422,
        "VALIDATION",
    )
    many = ["post.published"] * 51
    assert_error(
        await client.post("/v1/webhook-endpoints", headers=tenant.headers, json=endpoint_body(events=many)),
        422,
        "VALIDATION",
    )


async def test_url_must_be_https_and_public(client, tenant, session):
    for url in (
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://10.0.0.8/x",
        "https://[::ffff:127.0.0.1]/x",
        "ftp://hooks.example.com/x",
    ):
        response = await client.post(
            "/v1/webhook-endpoints", headers=tenant.headers, json=endpoint_body(url=url)
        )
        error = assert_error(response, 422, "VALIDATION")
        assert error["details"]["errors"][0]["field"] == "url", url
    assert (await sql(session, "SELECT count(*) FROM webhook_endpoints"))[0][0] == 0


async def test_allow_listed_host_may_be_loopback_over_http(client, tenant, monkeypatch):
    monkeypatch.setattr(get_settings(), "url_allowlist", ["127.0.0.1"])
    response = await client.post(
        "/v1/webhook-endpoints", headers=tenant.headers, json=endpoint_body(url="http://127.0.0.1:9/hooks")
    )
    assert response.status_code == 201, response.text


async def test_project_narrows_and_must_be_the_organizations(client, tenant, other_tenant, session):
    own = await client.post(
        "/v1/webhook-endpoints", headers=tenant.headers, json=endpoint_body(projectId=tenant.project["id"])
    )
    assert own.status_code == 201 and own.json()["endpoint"]["projectId"] == tenant.project["id"]
    other = await other_tenant()
    response = await client.post(
        "/v1/webhook-endpoints", headers=tenant.headers, json=endpoint_body(projectId=other.project["id"])
    )
    assert_error(response, 404, "NOT_FOUND")
    assert (await sql(session, "SELECT count(*) FROM webhook_endpoints"))[0][0] == 1


async def test_idempotency_key_replays_the_creation(client, tenant, session):
    headers = {**tenant.headers, "Idempotency-Key": str(uuid.uuid4())}
    first = await client.post("/v1/webhook-endpoints", headers=headers, json=endpoint_body())
    again = await client.post("/v1/webhook-endpoints", headers=headers, json=endpoint_body())
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert (await sql(session, "SELECT count(*) FROM webhook_endpoints"))[0][0] == 1
    changed = await client.post("/v1/webhook-endpoints", headers=headers, json=endpoint_body(description="x"))
    assert_error(changed, 422, "IDEMPOTENCY_KEY_REUSED")


async def test_scopes_webhooks_read_write_and_publish_write(client, admin, tenant):
    organization_id = tenant.organization["id"]
    reader = bearer(await admin.api_key(organization_id, ["webhooks:read"]))
    writer = bearer(await admin.api_key(organization_id, ["webhooks:write"]))
    publisher = bearer(await admin.api_key(organization_id, ["publish:write"]))
    content_only = bearer(await admin.api_key(organization_id, ["content:read"]))
    assert (await client.get("/v1/webhook-endpoints", headers=reader)).status_code == 200
    assert_error(
        await client.post("/v1/webhook-endpoints", headers=reader, json=endpoint_body()),
        403,
        "FORBIDDEN_SCOPE",
        requiredScope="webhooks:write",
    )
    assert_error(
        await client.get("/v1/webhook-endpoints", headers=content_only),
        403,
        "FORBIDDEN_SCOPE",
        requiredScope="webhooks:read",
    )
    for headers in (writer, publisher):
        created = await client.post("/v1/webhook-endpoints", headers=headers, json=endpoint_body())
        assert created.status_code == 201, created.text
        assert (await client.get("/v1/webhook-endpoints", headers=headers)).status_code == 200
    assert_error(await client.get("/v1/webhook-endpoints"), 401, "UNAUTHORIZED")


async def test_list_is_keyset_paginated(client, tenant, create_endpoint):
    made = [(await create_endpoint(description=str(i)))["endpoint"]["id"] for i in range(3)]
    first = await client.get("/v1/webhook-endpoints", params={"limit": 2}, headers=tenant.headers)
    assert first.status_code == 200
    page = first.json()
    assert [item["id"] for item in page["items"]] == made[:2] and page["nextCursor"]
    second = (
        await client.get(
            "/v1/webhook-endpoints", params={"limit": 2, "cursor": page["nextCursor"]}, headers=tenant.headers
        )
    ).json()
    assert [item["id"] for item in second["items"]] == made[2:] and second["nextCursor"] is None
    assert_error(
        await client.get("/v1/webhook-endpoints", params={"cursor": "nonsense"}, headers=tenant.headers),
        422,
        "VALIDATION",
    )
    assert_error(
        await client.get("/v1/webhook-endpoints", params={"limit": 101}, headers=tenant.headers),
        422,
        "VALIDATION",
    )


async def test_patch_changes_fields_and_pauses(client, tenant, create_endpoint):
    endpoint = (await create_endpoint())["endpoint"]
    response = await client.patch(
        f"/v1/webhook-endpoints/{endpoint['id']}",
        headers=tenant.headers,
        json={
            "url": "https://other.example.com/h",
            "events": ["test.ping", "content.approved"],
            "description": "new",
            "metadata": {"a": 1},
            "status": "paused",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["url"], body["events"], body["description"], body["metadata"], body["status"]) == (
        "https://other.example.com/h",
        ["test.ping", "content.approved"],
        "new",
        {"a": 1},
        "paused",
    )
    for bad in (
        {"status": "auto_paused"},
        {"events": ["nope"]},
        {"url": "http://x.example.com"},
        {"url": None},
        {"secret": "x"},
    ):
        assert_error(
            await client.patch(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers, json=bad),
            422,
            "VALIDATION",
        )


async def test_reactivating_an_auto_paused_endpoint_resets_failures_and_releases_pending(
    client, tenant, create_endpoint, session
):
    from tests.publishing.helpers import write_sql

    endpoint = (await create_endpoint(events=["test.ping"]))["endpoint"]
    await client.post(f"/v1/webhook-endpoints/{endpoint['id']}/test", headers=tenant.headers)
    await write_sql(session, "UPDATE webhook_endpoints SET status = 'auto_paused', consecutive_failures = 20")
    await write_sql(session, "UPDATE webhook_deliveries SET next_retry_at = now() + interval '6 hours'")
    response = await client.patch(
        f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers, json={"status": "active"}
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["consecutiveFailures"]) == ("active", 0)
    [(due,)] = await sql(session, "SELECT next_retry_at <= now() FROM webhook_deliveries")
    assert due


async def test_delete_removes_the_endpoint(client, tenant, create_endpoint, session):
    endpoint = (await create_endpoint())["endpoint"]
    response = await client.delete(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers)
    assert response.status_code == 200 and response.json() == endpoint
    assert_error(
        await client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers), 404, "NOT_FOUND"
    )
    assert (await sql(session, "SELECT count(*) FROM webhook_endpoints"))[0][0] == 0


async def test_rotate_secret_keeps_the_old_one_for_24_hours(client, tenant, create_endpoint, session):
    created = await create_endpoint()
    endpoint_id = created["endpoint"]["id"]
    response = await client.post(f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret", headers=tenant.headers)
    assert response.status_code == 200, response.text
    new_secret = response.json()["signingSecret"]
    assert SECRET.fullmatch(new_secret) and new_secret != created["signingSecret"]
    [(current, previous, overlap_hours)] = await sql(
        session,
        """
        SELECT secret_encrypted, previous_secret_encrypted,
               extract(epoch FROM previous_secret_expires_at - now()) / 3600 FROM webhook_endpoints""",
    )
    assert crypto.decrypt(current) == new_secret and crypto.decrypt(previous) == created["signingSecret"]
    assert 23.9 < overlap_hours <= 24


async def test_ids_of_another_organization_are_404(client, tenant, other_tenant, create_endpoint, session):
    endpoint_id = (await create_endpoint(events=["test.ping"]))["endpoint"]["id"]
    sent = await client.post(f"/v1/webhook-endpoints/{endpoint_id}/test", headers=tenant.headers)
    delivery_id = sent.json()["id"]
    other = (await other_tenant()).headers
    for method, path in (
        ("GET", f"/v1/webhook-endpoints/{endpoint_id}"),
        ("PATCH", f"/v1/webhook-endpoints/{endpoint_id}"),
        ("DELETE", f"/v1/webhook-endpoints/{endpoint_id}"),
        ("POST", f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret"),
        ("POST", f"/v1/webhook-endpoints/{endpoint_id}/test"),
        ("GET", f"/v1/webhook-endpoints/{endpoint_id}/deliveries"),
        ("POST", f"/v1/webhook-deliveries/{delivery_id}/replay"),
        ("GET", "/v1/webhook-endpoints/whe_not-an-id"),
        ("POST", "/v1/webhook-deliveries/whd_not-an-id/replay"),
    ):
        response = await client.request(method, path, headers=other, json={} if method == "PATCH" else None)
        assert_error(response, 404, "NOT_FOUND")
    assert (await client.get("/v1/webhook-endpoints", headers=other)).json()["items"] == []
    assert (await sql(session, "SELECT count(*) FROM webhook_deliveries"))[0][0] == 1
