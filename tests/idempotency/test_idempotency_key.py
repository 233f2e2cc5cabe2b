"""CONTRACT §3: Idempotency-Key on every POST of /v1."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from crier.idempotency.service import purge_expired_keys, request_hash
from tests.publishing.helpers import (
    assert_error,
    count_posts,
    error_of,
    later,
    publish,
    sql,
    target,
    write_sql,
)
from tests.support.wakeups import forget_wake_up, wake_up_queued


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def count_keys(session) -> int:
    return (await sql(session, "SELECT count(*) FROM idempotency_keys"))[0][0]


async def test_a_retry_replays_the_first_answer_byte_for_byte_and_writes_nothing(client, tenant, session):
    content = await tenant.content()
    await forget_wake_up()
    headers = key()
    first = await publish(tenant, content["id"], [target(tenant.tiktok), target(tenant.instagram)], **headers)
    assert await wake_up_queued()
    await forget_wake_up()
    again = await publish(tenant, content["id"], [target(tenant.tiktok), target(tenant.instagram)], **headers)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await count_posts(session) == 2
    assert not await wake_up_queued(), "a replay must not wake the worker again"


async def test_the_body_is_compared_as_canonical_json(client, tenant, session):
    content = await tenant.content()
    headers = {**tenant.headers, **key(), "Content-Type": "application/json"}
    path = f"/v1/content/{content['id']}/publish"
    account = tenant.tiktok["id"]
    first = await client.post(
        path, headers=headers, content=f'{{"targets":[{{"socialAccountId":"{account}","mode":"publish"}}]}}'
    )
    again = await client.post(
        path,
        headers=headers,
        content=f'{{ "targets" : [ {{ "mode" : "publish", "socialAccountId" : "{account}" }} ] }}',
    )
    assert again.headers["idempotent-replayed"] == "true" and again.content == first.content
    assert await count_posts(session) == 1


async def test_the_same_key_with_another_body_is_key_reused(client, tenant, session):
    content = await tenant.content()
    headers = key()
    await publish(tenant, content["id"], [target(tenant.tiktok)], **headers)
    response = await publish(tenant, content["id"], [target(tenant.instagram)], **headers)
    assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED", idempotencyKey=headers["Idempotency-Key"])
    assert await count_posts(session) == 1


async def test_the_scope_is_organization_method_and_path(client, tenant, admin, session):
    other = await admin.tenant()
    first, second, foreign = await tenant.content(), await tenant.content(), await other.content()
    headers = key()
    for owner, content in ((tenant, first), (tenant, second), (other, foreign)):
        response = await publish(owner, content["id"], [target(owner.tiktok)], **headers)
        assert response.status_code == 200 and "idempotent-replayed" not in response.headers
    schedule = await client.post(
        f"/v1/content/{first['id']}/schedule",
        headers={**tenant.headers, **headers},
        json={"targets": [target(tenant.tiktok)], "scheduledFor": later()},
    )
    assert schedule.status_code == 200 and "idempotent-replayed" not in schedule.headers
    assert await count_posts(session) == 4


async def test_a_key_longer_than_255_characters_is_a_validation_error(client, tenant, session):
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.tiktok)], **{"Idempotency-Key": "k" * 256})
    error = assert_error(response, 422, "VALIDATION")
    assert error["details"]["errors"][0]["path"] == "header.Idempotency-Key"
    assert (
        await publish(tenant, content["id"], [target(tenant.tiktok)], **{"Idempotency-Key": "k" * 255})
    ).status_code == 200
    assert await count_posts(session) == 1


async def test_a_refusal_is_replayed_too(client, tenant, session):
    content = await tenant.content(status="generating")
    headers = key()
    first = await publish(tenant, content["id"], [target(tenant.tiktok)], **headers)
    assert_error(first, 409, "CONFLICT", status="generating")
    again = await publish(tenant, content["id"], [target(tenant.tiktok)], **headers)
    assert again.status_code == 409 and again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"


async def test_a_5xx_is_not_cached_so_the_partner_may_retry(client, tenant, session, monkeypatch):
    from crier.publishing import service

    real_accept = service.accept

    async def failing_accept(*args, **kwargs):
        monkeypatch.setattr(service, "accept", real_accept)
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(service, "accept", failing_accept)
    content = await tenant.content()
    headers = key()
    assert_error(await publish(tenant, content["id"], [target(tenant.tiktok)], **headers), 500, "INTERNAL")
    assert await count_keys(session) == 0
    retry = await publish(tenant, content["id"], [target(tenant.tiktok)], **headers)
    assert retry.status_code == 200 and "idempotent-replayed" not in retry.headers
    assert await count_posts(session) == 1


async def claim_by_hand(
    session, tenant, content_id: str, body: dict, idempotency_key: str, locked: str
) -> None:
    """A claim row as a request still running (or one that crashed) leaves it."""
    await write_sql(
        session,
        "INSERT INTO idempotency_keys (organization_id, method, path, key, request_hash, created_at, expires_at,"
        f" locked_until) VALUES (:org, 'POST', :path, :key, :hash, now(), now() + interval '1 day', {locked})",
        org=tenant.organization["id"],
        path=f"/v1/content/{content_id}/publish",
        key=idempotency_key,
        hash=request_hash(json.dumps(body).encode()),
    )


async def test_while_the_first_request_runs_the_key_is_in_flight(client, tenant, session):
    content = await tenant.content()
    body = {"targets": [target(tenant.tiktok)]}
    await claim_by_hand(session, tenant, content["id"], body, "running", "now() + interval '1 minute'")
    response = await publish(tenant, content["id"], body["targets"], **{"Idempotency-Key": "running"})
    assert_error(response, 409, "IDEMPOTENCY_IN_FLIGHT")
    assert int(response.headers["retry-after"]) >= 1
    assert await count_posts(session) == 0


async def test_a_claim_left_by_a_crashed_process_expires_and_is_taken_over(client, tenant, session):
    content = await tenant.content()
    body = {"targets": [target(tenant.tiktok)]}
    await claim_by_hand(session, tenant, content["id"], body, "crashed", "now() - interval '1 second'")
    response = await publish(tenant, content["id"], body["targets"], **{"Idempotency-Key": "crashed"})
    assert response.status_code == 200 and "idempotent-replayed" not in response.headers
    again = await publish(tenant, content["id"], body["targets"], **{"Idempotency-Key": "crashed"})
    assert again.content == response.content and again.headers["idempotent-replayed"] == "true"
    assert await count_posts(session) == 1


async def test_keys_are_kept_24_hours_then_purged_on_read(client, tenant, session):
    content = await tenant.content()
    headers = key()
    await publish(tenant, content["id"], [target(tenant.tiktok)], **headers)
    [row] = await sql(session, "SELECT expires_at - created_at AS kept FROM idempotency_keys")
    assert row.kept.total_seconds() == 24 * 3600
    await write_sql(session, "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
    response = await publish(tenant, content["id"], [target(tenant.instagram)], **headers)
    assert response.status_code == 200 and "idempotent-replayed" not in response.headers
    assert await count_posts(session) == 2 and await count_keys(session) == 1


async def test_the_purge_deletes_only_expired_keys(client, tenant, session):
    content = await tenant.content()
    for _ in range(3):
        await publish(tenant, content["id"], [target(tenant.tiktok)], **key())
    await write_sql(
        session, "UPDATE idempotency_keys SET expires_at = now() - interval '1 hour' WHERE id <= 2"
    )
    assert await purge_expired_keys(session) == 2
    await session.commit()
    assert await count_keys(session) == 1


@pytest.mark.parametrize("body", [{"targets": []}, {"targets": [{"mode": "publish"}]}])
async def test_schema_errors_answer_before_the_key_is_claimed(client, tenant, session, body):
    content = await tenant.content()
    headers = {**tenant.headers, "Idempotency-Key": "early"}
    response = await client.post(f"/v1/content/{content['id']}/publish", json=body, headers=headers)
    assert_error(response, 422, "VALIDATION")
    assert await count_keys(session) == 0
    fixed = await publish(tenant, content["id"], [target(tenant.tiktok)], **{"Idempotency-Key": "early"})
    assert fixed.status_code == 200


async def test_auth_and_scope_answer_before_the_key_is_claimed(client, admin, session):
    reader = await admin.tenant(scopes=["publish:read", "content:write"])
    content = await reader.content()
    response = await publish(reader, content["id"], [target(reader.tiktok)], **key())
    assert error_of(response)["code"] == "FORBIDDEN_SCOPE" and await count_keys(session) == 0


async def test_without_a_key_every_request_is_new(client, tenant, session):
    content = await tenant.content()
    for _ in range(2):
        await publish(tenant, content["id"], [target(tenant.tiktok)])
    assert await count_posts(session) == 2 and await count_keys(session) == 0


async def test_a_request_whose_claim_was_taken_over_writes_nothing(client, tenant, session, monkeypatch):
    """If a slow request's lock ran out and another took the key over, the slow one's batch is
    rolled back when it finds its fence gone: the key's new owner alone answers."""
    from crier.core.db import get_sessionmaker
    from crier.publishing import service

    real_accept = service.accept

    async def slow_accept(*args, **kwargs):
        async with get_sessionmaker()() as other:
            await other.execute(
                text("UPDATE idempotency_keys SET locked_until = now() + interval '5 minutes'")
            )
            await other.commit()
        return await real_accept(*args, **kwargs)

    monkeypatch.setattr(service, "accept", slow_accept)
    content = await tenant.content()
    response = await publish(tenant, content["id"], [target(tenant.tiktok)], **key())
    assert_error(response, 409, "IDEMPOTENCY_IN_FLIGHT")
    assert await count_posts(session) == 0
