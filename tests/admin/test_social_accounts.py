"""CONTRACT §10: connecting accounts (tokens encrypted at rest, never returned) and disconnecting them."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from crier.core import crypto
from tests.support.factories import ADMIN_HEADERS, error_of

ACCESS, REFRESH = "act.plain-access-token-123", "rft.plain-refresh-token-456"


def account_body(**fields) -> dict:
    return {
        "platform": "tiktok",
        "handle": "creator",
        "externalAccountId": "tt-open-id-9",
        "accessToken": ACCESS,
        "refreshToken": REFRESH,
        "grantedScopes": ["video.publish"],
        **fields,
    }


async def _connect(client, project_id: str, **fields):
    return await client.post(
        f"/admin/v1/projects/{project_id}/social-accounts", json=account_body(**fields), headers=ADMIN_HEADERS
    )


async def _account_rows(session) -> int:
    return await session.scalar(text("SELECT count(*) FROM social_accounts"))


async def test_connect_an_account(client, admin):
    project = await admin.project((await admin.organization())["id"])

    response = await _connect(
        client,
        project["id"],
        handle="@creator",
        tokenExpiresAt="2030-01-01T02:00:00+02:00",
        grantedScopes=["video.upload", "video.publish", "video.upload"],
    )

    assert response.status_code == 201, response.text
    account = response.json()
    assert account["id"].startswith("sa_")
    assert (account["projectId"], account["platform"], account["handle"], account["status"]) == (
        project["id"],
        "tiktok",
        "creator",
        "connected",
    )
    assert account["grantedScopes"] == ["video.publish", "video.upload"]
    assert account["tokenExpiresAt"] == "2030-01-01T00:00:00.000Z"


async def test_the_answer_never_contains_a_token(client, admin):
    project = await admin.project((await admin.organization())["id"])

    response = await _connect(client, project["id"])

    assert response.status_code == 201
    assert ACCESS not in response.text and REFRESH not in response.text
    assert not any("token" in name.lower() and name != "tokenExpiresAt" for name in response.json())


async def test_tokens_are_encrypted_at_rest(client, admin, session):
    project = await admin.project((await admin.organization())["id"])
    await _connect(client, project["id"])

    row = (await session.execute(text("SELECT * FROM social_accounts"))).mappings().one()

    assert all(ACCESS not in str(value) and REFRESH not in str(value) for value in row.values())
    assert crypto.decrypt(row["access_token_encrypted"]) == ACCESS
    assert crypto.decrypt(row["refresh_token_encrypted"]) == REFRESH


async def test_an_instagram_account_type_is_kept_only_for_instagram(client, admin):
    project = await admin.project((await admin.organization())["id"])

    tiktok = await _connect(client, project["id"], instagramAccountType="business")
    instagram = await _connect(client, project["id"], platform="instagram", instagramAccountType="creator")

    assert tiktok.json()["instagramAccountType"] is None
    assert instagram.json()["instagramAccountType"] == "creator"


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"platform": "youtube"}, "body.platform"),
        ({"accessToken": ""}, "body.accessToken"),
        ({"handle": ""}, "body.handle"),
        ({"tokenExpiresAt": "2030-01-01T00:00:00"}, "body.tokenExpiresAt"),
        ({"instagramAccountType": "celebrity"}, "body.instagramAccountType"),
        ({"password": "hunter2"}, "body.password"),
    ],
)
async def test_invalid_account_is_422_and_not_written(client, tenant, session, fields, path):
    before = await _account_rows(session)

    response = await _connect(client, tenant.project["id"], **fields)

    assert [e["path"] for e in error_of(response, 422, "VALIDATION")["details"]["errors"]] == [path]
    assert await _account_rows(session) == before


async def test_an_account_can_join_a_layer_of_its_own_project_only(client, admin, tenant, session):
    other_project = await admin.project(tenant.organization["id"], name="Other")
    foreign_layer = await admin.layer(other_project["id"])
    own_layer = await admin.layer(tenant.project["id"])
    before = await _account_rows(session)

    refused = await _connect(client, tenant.project["id"], layerId=foreign_layer["id"])
    unknown = await _connect(client, tenant.project["id"], layerId=f"lyr_{uuid.uuid4()}")
    joined = await _connect(client, tenant.project["id"], layerId=own_layer["id"])

    for response in (refused, unknown):
        assert [e["path"] for e in error_of(response, 422, "VALIDATION")["details"]["errors"]] == [
            "body.layerId"
        ]
    assert joined.status_code == 201 and joined.json()["layerId"] == own_layer["id"]
    assert await _account_rows(session) == before + 1


async def test_connecting_to_a_missing_project_is_404(client, session):
    error_of(await _connect(client, f"prj_{uuid.uuid4()}"), 404, "NOT_FOUND")
    assert await _account_rows(session) == 0


async def test_disconnect_an_account(client, tenant, session):
    response = await client.delete(f"/admin/v1/social-accounts/{tenant.tiktok['id']}", headers=ADMIN_HEADERS)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"
    assert "act.tiktok-access" not in response.text
    row = (
        await session.execute(
            text("SELECT status, disconnected_reason, disconnected_at FROM social_accounts WHERE id = :id"),
            {"id": tenant.tiktok["id"]},
        )
    ).one()
    assert (
        row.status == "revoked" and row.disconnected_reason == "operator" and row.disconnected_at is not None
    )


async def test_disconnecting_twice_keeps_the_first_disconnection(client, tenant, session):
    path = f"/admin/v1/social-accounts/{tenant.tiktok['id']}"
    await client.delete(path, headers=ADMIN_HEADERS)
    first = await session.scalar(
        text("SELECT disconnected_at FROM social_accounts WHERE id = :id"), {"id": tenant.tiktok["id"]}
    )

    again = await client.delete(path, headers=ADMIN_HEADERS)

    assert again.status_code == 200 and again.json()["status"] == "revoked"
    assert (
        await session.scalar(
            text("SELECT disconnected_at FROM social_accounts WHERE id = :id"), {"id": tenant.tiktok["id"]}
        )
        == first
    )


@pytest.mark.parametrize("account_id", [f"sa_{uuid.uuid4()}", "sa_nope"])
async def test_disconnecting_a_missing_account_is_404(client, account_id):
    error_of(
        await client.delete(f"/admin/v1/social-accounts/{account_id}", headers=ADMIN_HEADERS),
        404,
        "NOT_FOUND",
    )
