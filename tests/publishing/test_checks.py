"""CONTRACT §4 steps 4–10: every error code with its details, and nothing written."""

from __future__ import annotations

from tests.publishing.helpers import assert_error, count_posts, publish, schedule, sp_id, sql, target


async def test_a_container_of_another_organization_is_not_found(client, tenant, admin, session):
    other = await admin.tenant()
    foreign = await other.content()
    assert_error(await publish(tenant, foreign["id"], [target(tenant.tiktok)]), 404, "NOT_FOUND")
    assert await count_posts(session) == 0


async def test_a_malformed_container_id_is_not_found(client, tenant, session):
    assert_error(await publish(tenant, "cnt_nope", [target(tenant.tiktok)]), 404, "NOT_FOUND")


async def test_a_container_still_generating_is_a_conflict(client, tenant, session):
    content = await tenant.content(status="generating")
    assert_error(
        await publish(tenant, content["id"], [target(tenant.tiktok)]), 409, "CONFLICT", status="generating"
    )
    assert await count_posts(session) == 0


async def test_a_rejected_container_is_content_rejected(client, tenant, session):
    content = await tenant.content()
    await client.post(f"/v1/content/{content['id']}/reject", headers=tenant.headers)
    response = await schedule(tenant, content["id"], [target(tenant.tiktok)])
    assert_error(response, 409, "CONTENT_REJECTED", approvalStatus="rejected")
    assert await count_posts(session) == 0


async def test_an_account_of_another_organization_is_not_found_and_aborts_the_batch(
    client, tenant, admin, session
):
    other = await admin.tenant()
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.tiktok), target(other.tiktok)])
    assert_error(response, 404, "NOT_FOUND", socialAccountId=other.tiktok["id"])
    assert await count_posts(session) == 0


async def test_an_unknown_or_malformed_account_is_not_found(client, tenant, session):
    content = await tenant.content()
    for account_id in ("sa_00000000-0000-4000-8000-000000000000", "not-an-id"):
        response = await publish(tenant, content["id"], [{"socialAccountId": account_id, "mode": "publish"}])
        assert_error(response, 404, "NOT_FOUND", socialAccountId=account_id)


async def test_an_account_of_another_project_is_a_project_mismatch(client, tenant, admin, session):
    project = await admin.project(tenant.organization["id"], name="Second")
    elsewhere = await admin.tiktok_account(project["id"])
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.instagram), target(elsewhere)])
    assert_error(response, 422, "VALIDATION", reason="project_mismatch", socialAccountId=elsewhere["id"])
    assert await count_posts(session) == 0


async def test_share_reel_to_feed_on_a_tiktok_target_is_refused(client, tenant, session):
    content = await tenant.content(media_type="video")
    response = await publish(tenant, content["id"], [target(tenant.tiktok, shareReelToFeed=True)])
    assert_error(
        response,
        422,
        "VALIDATION",
        reason="non_instagram_target",
        platform="tiktok",
        socialAccountId=tenant.tiktok["id"],
    )
    assert await count_posts(session) == 0


async def test_share_reel_to_feed_on_a_non_video_container_is_refused(client, tenant, session):
    for media_type in ("image", "multi"):
        content = await tenant.content(media_type=media_type)
        response = await publish(tenant, content["id"], [target(tenant.instagram, shareReelToFeed=False)])
        assert_error(response, 422, "VALIDATION", reason="non_video_container", mediaType=media_type)
    assert await count_posts(session) == 0


async def test_a_track_outside_the_catalog_is_refused(client, tenant, admin, session):
    await admin.music(
        [{"id": "known-track", "title": "Song", "artist": "Band", "link": "https://music.example/1"}]
    )
    content = await tenant.content(media_type="multi")
    ok = await publish(
        tenant,
        content["id"],
        [target(tenant.tiktok, tiktokMusic={"mode": "manual", "trackId": "known-track"})],
    )
    assert ok.status_code == 200, ok.text
    response = await publish(
        tenant, content["id"], [target(tenant.tiktok, tiktokMusic={"mode": "manual", "trackId": "gone"})]
    )
    assert_error(response, 422, "VALIDATION", reason="unknown_track", trackId="gone")
    assert await count_posts(session) == 1


async def test_a_tiktok_account_without_video_publish_is_not_publish_ready(client, tenant, admin, session):
    uploader = await admin.tiktok_account(tenant.project["id"], grantedScopes=["video.upload"])
    content = await tenant.content()
    assert (await publish(tenant, content["id"], [target(uploader, "draft")])).status_code == 200
    response = await publish(tenant, content["id"], [target(uploader, "publish")])
    assert_error(
        response, 422, "SOCIAL_ACCOUNT_NOT_PUBLISH_READY", socialAccountId=uploader["id"], mode="publish"
    )
    assert await count_posts(session) == 1


async def test_a_tiktok_draft_needs_video_upload(client, tenant, admin, session):
    publisher = await admin.tiktok_account(tenant.project["id"], grantedScopes=["video.publish"])
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(publisher, "draft")])
    assert_error(
        response, 422, "SOCIAL_ACCOUNT_NOT_PUBLISH_READY", socialAccountId=publisher["id"], mode="draft"
    )


async def test_an_instagram_account_of_unknown_type_cannot_publish(client, tenant, admin, session):
    unknown = await admin.instagram_account(tenant.project["id"], instagramAccountType=None)
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(unknown, "publish")])
    assert_error(
        response, 422, "SOCIAL_ACCOUNT_NOT_PUBLISH_READY", socialAccountId=unknown["id"], mode="publish"
    )


async def test_managed_mode_needs_a_managed_layer(client, tenant, session):
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.tiktok, "managed")])
    assert_error(
        response, 422, "SOCIAL_ACCOUNT_NOT_PUBLISH_READY", socialAccountId=tenant.tiktok["id"], mode="managed"
    )


async def test_a_disconnected_account_is_ready_for_nothing(client, tenant, admin, session):
    await admin.disconnect(tenant.instagram["id"])
    content = await tenant.content()
    for mode in ("publish", "draft"):
        response = await publish(
            tenant, content["id"], [target(tenant.tiktok), target(tenant.instagram, mode)]
        )
        assert_error(
            response,
            422,
            "SOCIAL_ACCOUNT_NOT_PUBLISH_READY",
            socialAccountId=tenant.instagram["id"],
            mode=mode,
        )
    assert await count_posts(session) == 0


async def test_publish_on_a_gated_container_is_approval_required_and_stashes_nothing(client, admin, session):
    tenant = await admin.tenant(requiresApproval=True)
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.tiktok)])
    assert_error(response, 403, "APPROVAL_REQUIRED", containerId=content["id"], approvalStatus="pending")
    assert await count_posts(session) == 0


async def test_an_existing_partner_id_is_a_duplicate_and_aborts_the_batch(client, tenant, session):
    content = await tenant.content()
    taken = sp_id()
    assert (
        await publish(tenant, content["id"], [target(tenant.tiktok, scheduledPostId=taken)])
    ).status_code == 200
    response = await publish(
        tenant, content["id"], [target(tenant.instagram), target(tenant.tiktok, scheduledPostId=taken)]
    )
    assert_error(response, 409, "CONFLICT_DUPLICATE_ID", scheduledPostId=taken)
    assert await count_posts(session) == 1


async def test_a_stashed_partner_id_is_a_duplicate_too(client, admin, session):
    tenant = await admin.tenant(requiresApproval=True)
    content = await tenant.content()
    stashed = sp_id()
    assert (
        await schedule(tenant, content["id"], [target(tenant.tiktok, scheduledPostId=stashed)])
    ).status_code == 200
    response = await schedule(tenant, content["id"], [target(tenant.tiktok, scheduledPostId=stashed)])
    assert_error(response, 409, "CONFLICT_DUPLICATE_ID", scheduledPostId=stashed)
    assert await count_posts(session) == 1


async def test_publish_write_scope_is_required(client, admin, session):
    tenant = await admin.tenant(scopes=["publish:read", "content:write"])
    content = await tenant.content()
    assert_error(
        await publish(tenant, content["id"], [target(tenant.tiktok)]),
        403,
        "FORBIDDEN_SCOPE",
        requiredScope="publish:write",
    )
    assert await count_posts(session) == 0


async def test_rows_carry_the_request_id_for_log_joins(client, tenant, session):
    content = await tenant.content()
    response = await publish(
        tenant, content["id"], [target(tenant.tiktok)], **{"X-Request-Id": "req-from-partner"}
    )
    assert (await sql(session, "SELECT request_id FROM scheduled_posts"))[0].request_id == "req-from-partner"
    assert response.headers["x-request-id"] == "req-from-partner"


def test_each_row_of_a_batch_holds_exactly_the_columns_its_insert_names():
    # jsonb_to_recordset reads rows by key: a key the INSERT does not name would be dropped silently,
    # a column a row lacks written NULL.
    from datetime import UTC, datetime

    from crier.core.db import DriverRow
    from crier.publishing.repository import POST_COLUMNS
    from crier.publishing.schemas import Target
    from crier.publishing.service import _rows

    container = DriverRow(id="cnt_x", organization_id="org_x", project_id="prj_x", caption="hello")
    accounts = {"sa_x": (DriverRow(id="sa_x", platform="tiktok"), None)}
    targets = [Target.model_validate({"socialAccountId": "sa_x", "mode": "publish"})]
    for gated in (False, True):
        (row,) = _rows(container, targets, accounts, datetime.now(UTC), gated, "req_x")
        assert set(row) == POST_COLUMNS


async def test_a_container_that_keeps_changing_under_the_batch_is_a_conflict(
    client, tenant, session, monkeypatch
):
    # Each decision's INSERT finds the container changed since it was read: after three, 409, nothing written.
    from crier.publishing import repository

    async def always_changed(connection, *, container, rows):
        return False

    monkeypatch.setattr(repository, "insert_posts", always_changed)
    content = await tenant.content()
    assert_error(await publish(tenant, content["id"], [target(tenant.tiktok)]), 409, "CONFLICT")
    assert await count_posts(session) == 0
