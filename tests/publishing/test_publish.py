"""CONTRACT §4: /publish and /schedule accept a batch in one transaction, ids in target order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from tests.publishing.helpers import count_posts, later, publish, schedule, sp_id, sql, target
from tests.support.wakeups import forget_wake_up, wake_up_queued


async def test_publish_answers_only_the_ids_in_target_order(client, tenant, session):
    content = await tenant.content(caption="Launch day")
    response = await publish(tenant, content["id"], [target(tenant.instagram), target(tenant.tiktok)])
    assert response.status_code == 200, response.text
    ids = response.json()["scheduledPostIds"]
    assert list(response.json()) == ["scheduledPostIds"] and len(ids) == 2
    rows = await sql(
        session, "SELECT id, social_account_id, batch_position FROM scheduled_posts ORDER BY batch_position"
    )
    assert [(row.id, row.social_account_id, row.batch_position) for row in rows] == [
        (ids[0], tenant.instagram["id"], 0),
        (ids[1], tenant.tiktok["id"], 1),
    ]


async def test_a_published_post_is_scheduled_for_now_and_due_at_once(client, tenant, session):
    content = await tenant.content()
    before = datetime.now(UTC)
    post_id = (await publish(tenant, content["id"], [target(tenant.tiktok)])).json()["scheduledPostIds"][0]
    [row] = await sql(session, "SELECT status, scheduled_for, due_at FROM scheduled_posts")
    assert row.status == "scheduled" and row.due_at == row.scheduled_for
    assert before - timedelta(seconds=1) <= row.scheduled_for <= datetime.now(UTC)
    read = (await client.get(f"/v1/scheduled-posts/{post_id}", headers=tenant.headers)).json()
    assert read["status"] == "scheduled" and read["scheduledFor"].endswith("Z")


async def test_publish_wakes_the_worker_after_commit(client, tenant):
    content = await tenant.content()
    await forget_wake_up()
    response = await publish(tenant, content["id"], [target(tenant.tiktok)])
    assert response.status_code == 200
    assert await wake_up_queued()


async def test_a_partner_supplied_id_becomes_the_post_id(client, tenant, session):
    content = await tenant.content()
    chosen = sp_id()
    response = await publish(
        tenant, content["id"], [target(tenant.tiktok), target(tenant.instagram, scheduledPostId=chosen)]
    )
    ids = response.json()["scheduledPostIds"]
    assert ids[1] == chosen and ids[0] != chosen and ids[0].startswith("sp_")
    assert await count_posts(session, "id = :id", id=chosen) == 1


async def test_the_caption_sent_is_the_override_or_the_container_caption(client, tenant, session):
    content = await tenant.content(caption="Container words")
    await publish(
        tenant,
        content["id"],
        [target(tenant.tiktok, captionOverride="Override words"), target(tenant.instagram)],
    )
    rows = await sql(session, "SELECT caption_sent FROM scheduled_posts ORDER BY batch_position")
    assert [row.caption_sent for row in rows] == ["Override words", "Container words"]


async def test_the_full_target_is_stored_and_read_back(client, tenant, admin):
    track = "8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999"
    await admin.music([{"id": track, "title": "Song", "artist": "Band", "link": "https://music.example/1"}])
    content = await tenant.content(media_type="video")
    settings = {
        "privacyLevel": "SELF_ONLY",
        "disableComment": True,
        "disableDuet": False,
        "disableStitch": True,
        "isBrandOrganic": False,
        "isBrandedContent": True,
    }
    targets = [
        target(
            tenant.tiktok,
            captionOverride="c",
            firstCommentOverride="f",
            tiktokPostSettings=settings,
            tiktokMusic={"mode": "manual", "trackId": track},
        ),
        target(tenant.instagram, shareReelToFeed=False),
    ]
    ids = (await publish(tenant, content["id"], targets)).json()["scheduledPostIds"]
    tiktok = (await client.get(f"/v1/scheduled-posts/{ids[0]}", headers=tenant.headers)).json()
    assert tiktok["captionOverride"] == "c" and tiktok["firstCommentOverride"] == "f"
    assert tiktok["tiktokPostSettings"] == settings
    assert tiktok["tiktokMusic"] == {"mode": "manual", "trackId": track}
    instagram = (await client.get(f"/v1/scheduled-posts/{ids[1]}", headers=tenant.headers)).json()
    assert instagram["shareReelToFeed"] is False and instagram["tiktokPostSettings"] is None


async def test_tiktok_fields_on_an_instagram_target_are_accepted_and_ignored(client, tenant):
    content = await tenant.content()
    response = await publish(
        tenant,
        content["id"],
        [
            target(
                tenant.instagram,
                tiktokPostSettings={"privacyLevel": "SELF_ONLY"},
                tiktokMusic={"mode": "auto"},
            )
        ],
    )
    assert response.status_code == 200, response.text


async def test_all_three_modes_publish_when_the_account_is_ready(client, tenant, admin):
    layer = await admin.managed_layer(tenant.project["id"])
    managed = await admin.tiktok_account(tenant.project["id"], layerId=layer["id"])
    content = await tenant.content()
    response = await publish(
        tenant,
        content["id"],
        [
            target(tenant.tiktok, "publish"),
            target(tenant.tiktok, "draft"),
            target(tenant.instagram, "draft"),
            target(managed, "managed", tiktokMusic={"mode": "auto"}),
        ],
    )
    assert response.status_code == 200, response.text


async def test_fifty_targets_are_one_batch(client, tenant, session):
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.tiktok)] * 50)
    assert response.status_code == 200, response.text
    assert await count_posts(session) == 50


async def test_schedule_answers_ids_gate_status_and_scheduled_for(client, tenant, session):
    content = await tenant.content()
    when = later(hours=2)
    response = await schedule(tenant, content["id"], [target(tenant.tiktok), target(tenant.instagram)], when)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"scheduledPostIds", "gateStatus", "scheduledFor"}
    assert body["gateStatus"] == "queued" and len(body["scheduledPostIds"]) == 2
    assert datetime.fromisoformat(body["scheduledFor"]) == datetime.fromisoformat(when).replace(
        microsecond=datetime.fromisoformat(when).microsecond // 1000 * 1000
    )
    rows = await sql(session, "SELECT status, scheduled_for, due_at FROM scheduled_posts")
    assert all(
        r.status == "scheduled" and r.due_at == r.scheduled_for == datetime.fromisoformat(when) for r in rows
    )


async def test_schedule_accepts_any_offset_and_answers_in_utc(client, tenant):
    content = await tenant.content()
    when = (datetime.now(UTC) + timedelta(hours=3)).astimezone(timezone(timedelta(hours=2))).isoformat()
    response = await schedule(tenant, content["id"], [target(tenant.tiktok)], when)
    assert response.status_code == 200, response.text
    assert response.json()["scheduledFor"].endswith("Z")
