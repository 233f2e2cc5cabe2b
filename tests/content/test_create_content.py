"""CONTRACT §8: `POST /v1/content` takes containers from the partner's pipeline."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from crier.core.settings import get_settings
from tests.support.factories import content_body, error_of, media_items


async def _content_rows(session) -> int:
    return await session.scalar(text("SELECT count(*) FROM content_containers"))


async def _refused(client, tenant, session, body: dict, path: str) -> dict:
    """POST `body`; it must be 422 VALIDATION naming `path`, and nothing may be written."""
    response = await client.post("/v1/content", json=body, headers=tenant.headers)
    error = error_of(response, 422, "VALIDATION")
    assert [e["path"] for e in error["details"]["errors"]] == [path], error
    assert await _content_rows(session) == 0
    return error


@pytest.mark.parametrize(("media_type", "count"), [("image", 1), ("video", 1), ("multi", 2), ("multi", 35)])
async def test_each_media_type_is_created(client, tenant, session, media_type, count):
    body = content_body(tenant.project["id"], media_type=media_type, count=count, firstComment="First!")

    response = await client.post("/v1/content", json=body, headers=tenant.headers)

    assert response.status_code == 201, response.text
    container = response.json()
    assert container["id"].startswith("cnt_")
    assert (container["projectId"], container["mediaType"], container["status"]) == (
        tenant.project["id"],
        media_type,
        "completed",
    )
    assert container["media"] == body["media"]
    assert (container["caption"], container["firstComment"]) == ("Hello", "First!")
    row = (await session.execute(text("SELECT organization_id, media_type FROM content_containers"))).one()
    assert tuple(row) == (tenant.organization["id"], media_type)


async def test_a_container_may_arrive_while_still_generating(client, tenant):
    response = await client.post(
        "/v1/content", json=content_body(tenant.project["id"], status="generating"), headers=tenant.headers
    )

    assert response.status_code == 201
    assert response.json()["status"] == "generating"


async def test_a_partner_cannot_create_a_failed_container(client, tenant, session):
    await _refused(
        client, tenant, session, content_body(tenant.project["id"], status="failed"), "body.status"
    )


@pytest.mark.parametrize(("media_type", "count"), [("image", 2), ("video", 2), ("multi", 1)])
async def test_media_count_must_fit_the_media_type(client, tenant, session, media_type, count):
    error = await _refused(
        client,
        tenant,
        session,
        content_body(tenant.project["id"], media_type=media_type, count=count),
        "body.media",
    )

    assert str(count) in error["details"]["errors"][0]["message"]


@pytest.mark.parametrize("count", [0, 36])
async def test_no_container_takes_zero_or_more_than_35_items(client, tenant, session, count):
    await _refused(
        client,
        tenant,
        session,
        content_body(tenant.project["id"], media_type="multi", count=count),
        "body.media",
    )


@pytest.mark.parametrize("url", ["http://cdn.example.com/1.mp4", "ftp://cdn.example.com/1.mp4"])
async def test_media_urls_must_be_https(client, tenant, session, url):
    body = content_body(tenant.project["id"], media=[{"url": url}])

    error = await _refused(client, tenant, session, body, "body.media.0.url")

    assert "https" in error["details"]["errors"][0]["message"]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "10.0.0.1", "169.254.169.254", "[::1]"])
async def test_media_urls_must_not_point_at_local_or_private_addresses(client, tenant, session, host):
    body = content_body(
        tenant.project["id"], media_type="multi", media=[*media_items(1), {"url": f"https://{host}/1.jpg"}]
    )

    await _refused(client, tenant, session, body, "body.media.1.url")


async def test_intake_does_not_resolve_media_hostnames(client, tenant):
    body = content_body(tenant.project["id"], media=[{"url": "https://cdn.internal.invalid/1.mp4"}])

    assert (await client.post("/v1/content", json=body, headers=tenant.headers)).status_code == 201


async def test_an_allow_listed_media_host_may_be_private(client, tenant, monkeypatch):
    monkeypatch.setattr(get_settings(), "url_allowlist", ["127.0.0.1"])
    body = content_body(tenant.project["id"], media=[{"url": "http://127.0.0.1:9000/1.mp4"}])

    assert (await client.post("/v1/content", json=body, headers=tenant.headers)).status_code == 201


@pytest.mark.parametrize("field", ["caption", "firstComment"])
async def test_caption_and_first_comment_take_up_to_4000_characters(client, tenant, field):
    response = await client.post(
        "/v1/content", json=content_body(tenant.project["id"], **{field: "é" * 4000}), headers=tenant.headers
    )

    assert response.status_code == 201, response.text
    assert response.json()[field] == "é" * 4000


@pytest.mark.parametrize("field", ["caption", "firstComment"])
async def test_caption_and_first_comment_over_4000_characters_are_refused(client, tenant, session, field):
    await _refused(
        client, tenant, session, content_body(tenant.project["id"], **{field: "é" * 4001}), f"body.{field}"
    )


async def test_project_id_and_media_type_are_required(client, tenant, session):
    response = await client.post("/v1/content", json={"media": media_items(1)}, headers=tenant.headers)

    errors = error_of(response, 422, "VALIDATION")["details"]["errors"]
    assert {e["path"] for e in errors} == {"body.projectId", "body.mediaType"}
    assert await _content_rows(session) == 0
