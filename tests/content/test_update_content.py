"""CONTRACT §8: `PATCH /v1/content/{id}` changes status, media, caption or firstComment, and nothing else."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.support.factories import error_of, media_items

CHANGES = [
    ({"status": "generating"}, "status", "generating"),
    (
        {"media": [{"url": "https://cdn.example.com/new.mp4"}]},
        "media",
        [{"url": "https://cdn.example.com/new.mp4"}],
    ),
    ({"caption": "New caption"}, "caption", "New caption"),
    ({"caption": None}, "caption", None),
    ({"firstComment": "New comment"}, "firstComment", "New comment"),
]


async def _stored(session, container_id: str) -> dict:
    row = await session.execute(
        text(
            'SELECT status, media, caption, first_comment AS "firstComment" FROM content_containers WHERE id = :id'
        ),
        {"id": container_id},
    )
    return dict(row.mappings().one())


@pytest.mark.parametrize(
    ("patch", "field", "expected"),
    CHANGES,
    ids=["status", "media", "caption", "clear-caption", "firstComment"],
)
async def test_patch_changes_only_the_given_field(client, tenant, session, patch, field, expected):
    container = await tenant.content(caption="Old caption", firstComment="Old comment")
    before = await _stored(session, container["id"])

    response = await client.patch(f"/v1/content/{container['id']}", json=patch, headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert response.json()[field] == expected
    assert await _stored(session, container["id"]) == {**before, field: expected}
    assert response.json()["updatedAt"] >= container["updatedAt"]


async def test_an_empty_patch_changes_nothing(client, tenant, session):
    container = await tenant.content()
    before = await _stored(session, container["id"])

    response = await client.patch(f"/v1/content/{container['id']}", json={}, headers=tenant.headers)

    assert response.status_code == 200
    assert await _stored(session, container["id"]) == before


@pytest.mark.parametrize(
    ("patch", "path"),
    [
        ({"media": media_items(2)}, "body.media"),  # a video container takes exactly one item
        ({"media": [{"url": "https://10.0.0.1/x.mp4"}]}, "body.media.0.url"),
        ({"media": [{"url": "http://cdn.example.com/x.mp4"}]}, "body.media.0.url"),
        ({"media": None}, "body.media"),
        ({"status": None}, "body.status"),
        ({"status": "failed"}, "body.status"),
        ({"caption": "x" * 4001}, "body.caption"),
        ({"firstComment": "x" * 4001}, "body.firstComment"),
        ({"mediaType": "image"}, "body.mediaType"),  # the media type is fixed at creation
        ({"projectId": "prj_00000000-0000-4000-8000-000000000000"}, "body.projectId"),
    ],
)
async def test_an_invalid_patch_is_422_and_changes_nothing(client, tenant, session, patch, path):
    container = await tenant.content(media_type="video")
    before = await _stored(session, container["id"])

    response = await client.patch(f"/v1/content/{container['id']}", json=patch, headers=tenant.headers)

    assert [e["path"] for e in error_of(response, 422, "VALIDATION")["details"]["errors"]] == [path]
    assert await _stored(session, container["id"]) == before


async def test_patched_media_must_fit_the_containers_media_type(client, tenant):
    container = await tenant.content(media_type="multi")

    response = await client.patch(
        f"/v1/content/{container['id']}", json={"media": media_items(35)}, headers=tenant.headers
    )

    assert response.status_code == 200, response.text
    assert len(response.json()["media"]) == 35
