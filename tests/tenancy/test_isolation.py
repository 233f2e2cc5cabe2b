"""CONTRACT §2 tenancy: anything of another organization does not exist for a key (404, never 403)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from tests.support.factories import content_body, error_of


@pytest.fixture
async def other(admin):
    """A second, unrelated organization."""
    return await admin.tenant()


def _missing(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4()}"


def _same_shape(leaked: dict, missing: dict) -> None:
    """A foreign id answers exactly like an id that never existed (only the ids themselves differ)."""
    assert leaked["code"] == missing["code"] == "NOT_FOUND"
    assert leaked["message"] == missing["message"]
    assert set(leaked["details"]) == set(missing["details"])


async def test_another_organizations_container_reads_as_missing(client, tenant, other):
    container = await tenant.content()

    leaked = error_of(
        await client.get(f"/v1/content/{container['id']}", headers=other.headers), 404, "NOT_FOUND"
    )
    missing = error_of(
        await client.get(f"/v1/content/{_missing('cnt')}", headers=other.headers), 404, "NOT_FOUND"
    )

    _same_shape(leaked, missing)
    assert container["id"] not in str(leaked)


async def test_another_organizations_container_cannot_be_patched(client, tenant, other, session):
    container = await tenant.content(caption="Mine")

    response = await client.patch(
        f"/v1/content/{container['id']}", json={"caption": "Theirs"}, headers=other.headers
    )
    missing = await client.patch(
        f"/v1/content/{_missing('cnt')}", json={"caption": "Theirs"}, headers=other.headers
    )

    _same_shape(error_of(response, 404, "NOT_FOUND"), error_of(missing, 404, "NOT_FOUND"))
    assert await session.scalar(text("SELECT caption FROM content_containers")) == "Mine"


async def test_another_organizations_project_accounts_read_as_missing(client, tenant, other):
    leaked = await client.get(
        "/v1/social-accounts", params={"projectId": tenant.project["id"]}, headers=other.headers
    )
    missing = await client.get(
        "/v1/social-accounts", params={"projectId": _missing("prj")}, headers=other.headers
    )

    _same_shape(error_of(leaked, 404, "NOT_FOUND"), error_of(missing, 404, "NOT_FOUND"))


async def test_account_listing_shows_only_the_keys_organization(client, tenant, other):
    response = await client.get("/v1/social-accounts", headers=other.headers)

    assert response.status_code == 200
    assert {item["id"] for item in response.json()["items"]} == {other.tiktok["id"], other.instagram["id"]}


async def test_content_cannot_be_created_in_another_organizations_project(client, tenant, other, session):
    response = await client.post(
        "/v1/content", json=content_body(tenant.project["id"]), headers=other.headers
    )
    missing = await client.post("/v1/content", json=content_body(_missing("prj")), headers=other.headers)

    _same_shape(error_of(response, 404, "NOT_FOUND"), error_of(missing, 404, "NOT_FOUND"))
    assert await session.scalar(text("SELECT count(*) FROM content_containers")) == 0


MALFORMED_CONTAINER_IDS = [
    "nope",
    "cnt_123",
    "cnt_",
    f"prj_{uuid.uuid4()}",
    f"cnt_{str(uuid.uuid4()).upper()}",
]


@pytest.mark.parametrize("container_id", MALFORMED_CONTAINER_IDS)
@pytest.mark.parametrize("method", ["GET", "PATCH"])
async def test_malformed_container_id_is_404(client, tenant, method, container_id):
    body = {"caption": "x"} if method == "PATCH" else None

    response = await client.request(method, f"/v1/content/{container_id}", json=body, headers=tenant.headers)

    error_of(response, 404, "NOT_FOUND")


@pytest.mark.parametrize("project_id", ["nope", f"cnt_{uuid.uuid4()}", "prj_123"])
async def test_malformed_project_id_is_404(client, tenant, session, project_id):
    listing = await client.get(
        "/v1/social-accounts", params={"projectId": project_id}, headers=tenant.headers
    )
    creation = await client.post("/v1/content", json=content_body(project_id), headers=tenant.headers)

    error_of(listing, 404, "NOT_FOUND")
    error_of(creation, 404, "NOT_FOUND")
    assert await session.scalar(text("SELECT count(*) FROM content_containers")) == 0
