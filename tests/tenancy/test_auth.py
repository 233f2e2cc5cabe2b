"""CONTRACT §2: API keys by either header, scopes, and tenant isolation."""

from __future__ import annotations


async def test_bearer_and_x_api_key_both_authenticate(client, tenant):
    key = tenant.key["key"]
    for headers in ({"Authorization": f"Bearer {key}"}, {"X-Api-Key": key}):
        response = await client.get("/v1/social-accounts", headers=headers)
        assert response.status_code == 200, response.text
        assert {item["id"] for item in response.json()["items"]} == {tenant.tiktok["id"], tenant.instagram["id"]}


async def test_missing_key_is_401_in_the_envelope(client, tenant):
    response = await client.get("/v1/social-accounts")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "UNAUTHORIZED"
    assert error["requestId"] == response.headers["x-request-id"]
