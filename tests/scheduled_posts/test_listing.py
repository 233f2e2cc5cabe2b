"""CONTRACT §7: a project's posts with filters, full-text search and a keyset cursor."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.publishing.helpers import assert_error, publish, schedule, target


def at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


async def listing(tenant, project_id: str | None = None, **params):
    project_id = project_id or tenant.project["id"]
    return await tenant.client.get(
        f"/v1/projects/{project_id}/scheduled-posts", params=params, headers=tenant.headers
    )


async def all_pages(tenant, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        page = (await listing(tenant, **params, **({"cursor": cursor} if cursor else {}))).json()
        items += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            return items


async def test_pages_walk_every_post_once_in_scheduled_for_then_id_order(client, tenant):
    content = await tenant.content()
    for hours in (3, 1, 2):
        await schedule(tenant, content["id"], [target(tenant.tiktok), target(tenant.instagram)], at(hours))
    await publish(tenant, content["id"], [target(tenant.tiktok)])
    items = await all_pages(tenant, limit=2)
    keys = [(item["scheduledFor"], item["id"]) for item in items]
    assert len(items) == 7 and len(set(keys)) == 7 and keys == sorted(keys)


async def test_the_first_page_answers_items_and_next_cursor(client, tenant):
    content = await tenant.content()
    await schedule(tenant, content["id"], [target(tenant.tiktok)] * 3)
    page = (await listing(tenant, limit=2)).json()
    assert set(page) == {"items", "nextCursor"} and len(page["items"]) == 2 and page["nextCursor"]
    last = (await listing(tenant, limit=3)).json()
    assert len(last["items"]) == 3 and last["nextCursor"] is None


async def test_limit_defaults_to_50_and_is_bounded(client, tenant):
    content = await tenant.content()
    await publish(tenant, content["id"], [target(tenant.tiktok)] * 50)
    await publish(tenant, content["id"], [target(tenant.tiktok)])
    page = (await listing(tenant)).json()
    assert len(page["items"]) == 50 and page["nextCursor"]
    for limit in (0, 101):
        assert_error(await listing(tenant, limit=limit), 422, "VALIDATION")


async def test_filters_narrow_by_status_platform_mode_container_and_account(client, tenant, admin):
    first, second = await tenant.content(), await tenant.content()
    await publish(tenant, first["id"], [target(tenant.tiktok), target(tenant.instagram, "draft")])
    ids = (await schedule(tenant, second["id"], [target(tenant.tiktok)])).json()["scheduledPostIds"]
    await client.delete(f"/v1/scheduled-posts/{ids[0]}", headers=tenant.headers)

    async def found(**filters) -> int:
        return len((await listing(tenant, **filters)).json()["items"])

    assert await found(status="canceled") == 1 and await found(status="scheduled") == 2
    assert await found(platform="instagram") == 1 and await found(mode="draft") == 1
    assert await found(containerId=first["id"]) == 2 and await found(socialAccountId=tenant.tiktok["id"]) == 2
    assert await found(containerId=first["id"], platform="tiktok", mode="publish") == 1
    assert_error(await listing(tenant, status="queued"), 422, "VALIDATION")


async def test_from_and_to_bound_scheduled_for(client, tenant):
    content = await tenant.content()
    for hours in (1, 2, 3):
        await schedule(tenant, content["id"], [target(tenant.tiktok)], at(hours))
    items = (await listing(tenant, **{"from": at(1.5), "to": at(2.5)})).json()["items"]
    assert len(items) == 1
    assert len((await listing(tenant, **{"from": at(1.5)})).json()["items"]) == 2
    naive = (datetime.now() + timedelta(hours=1)).isoformat()
    assert_error(await listing(tenant, **{"from": naive}), 422, "VALIDATION")


async def test_q_searches_the_caption_actually_sent(client, tenant):
    content = await tenant.content(caption="Summer sale starts today")
    await publish(
        tenant,
        content["id"],
        [target(tenant.tiktok), target(tenant.instagram, captionOverride="Winter launch")],
    )

    async def matches(q: str) -> list[str]:
        return [item["platform"] for item in (await listing(tenant, q=q)).json()["items"]]

    assert await matches("summer") == ["tiktok"]
    assert await matches("winter launch") == ["instagram"]
    assert await matches('"sale starts"') == ["tiktok"]
    assert await matches("summer -sale") == []
    assert await matches("autumn") == []


async def test_a_malformed_cursor_is_a_validation_error(client, tenant):
    for cursor in ("not-base64!", "bm9wZQ", "WyJ4IiwieSJd"):
        assert_error(await listing(tenant, cursor=cursor), 422, "VALIDATION")


async def test_only_the_callers_projects_are_listed(client, tenant, admin):
    other = await admin.tenant()
    foreign = await other.content()
    await publish(other, foreign["id"], [target(other.tiktok)])
    assert_error(await listing(tenant, other.project["id"]), 404, "NOT_FOUND")
    assert_error(await listing(tenant, "prj_nope"), 404, "NOT_FOUND")
    assert (await listing(tenant)).json()["items"] == []


async def test_stashed_posts_are_listed_as_blocked_on_approval(client, admin):
    tenant = await admin.tenant(requiresApproval=True)
    content = await tenant.content()
    await schedule(tenant, content["id"], [target(tenant.tiktok)])
    items = (await listing(tenant, status="blocked_on_approval")).json()["items"]
    assert len(items) == 1 and items[0]["status"] == "blocked_on_approval"


def _forged_cursor(when: str) -> str:
    raw = json.dumps([when, "sp_00000000-0000-4000-8000-000000000000"]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "when", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-01-01T00:00:00", "not a time"]
)
async def test_a_forged_cursor_is_a_validation_error_naming_the_cursor(client, tenant, when):
    error = assert_error(await listing(tenant, cursor=_forged_cursor(when)), 422, "VALIDATION")

    assert [e["field"] for e in error["details"]["errors"]] == ["cursor"]


async def test_a_cursor_with_an_offset_names_the_same_position_in_utc(client, tenant):
    response = await listing(tenant, cursor=_forged_cursor("2026-01-01T10:00:00+02:00"))

    assert response.status_code == 200, response.text
