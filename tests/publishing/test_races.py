"""All-or-nothing under concurrency: a partner id raced by two requests is 409 for the loser."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from tests.publishing.helpers import assert_error, count_posts, publish, sp_id, target


async def test_the_loser_of_a_partner_id_race_gets_409_and_writes_nothing(client, tenant, session):
    """The loser passes the existence check (the winner is not committed yet), then its INSERT
    waits on the winner's key and fails when the winner commits: 409, never 500."""
    content = await tenant.content()
    contested = sp_id()
    await session.execute(
        text(
            "INSERT INTO scheduled_posts (id, organization_id, project_id, container_id, social_account_id, platform,"
            " mode, status, scheduled_for) VALUES (:id, :org, :prj, :cnt, :sa, 'tiktok', 'publish', 'scheduled', now())"
        ),
        {
            "id": contested,
            "org": tenant.organization["id"],
            "prj": tenant.project["id"],
            "cnt": content["id"],
            "sa": tenant.tiktok["id"],
        },
    )
    loser = asyncio.create_task(
        publish(
            tenant,
            content["id"],
            [target(tenant.instagram), target(tenant.tiktok, scheduledPostId=contested)],
        )
    )
    await asyncio.sleep(0.5)
    assert not loser.done(), "the loser should be waiting on the winner's uncommitted key"
    await session.commit()
    assert_error(await loser, 409, "CONFLICT_DUPLICATE_ID", scheduledPostId=contested)
    assert await count_posts(session) == 1


async def test_concurrent_batches_sharing_a_partner_id_write_exactly_one_batch(client, tenant, session):
    content = await tenant.content()
    contested = sp_id()
    responses = await asyncio.gather(
        *(
            publish(
                tenant,
                content["id"],
                [target(tenant.instagram), target(tenant.tiktok, scheduledPostId=contested)],
            )
            for _ in range(8)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [409] * 7, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "CONFLICT_DUPLICATE_ID", scheduledPostId=contested)
    assert await count_posts(session) == 2
