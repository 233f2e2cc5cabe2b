"""arq's cron in `crier worker`: the purges and webhook abandonment, each a job of its own."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from crier.accounts.oauth import hash_state
from crier.core.clock import utcnow
from crier.delivery import housekeeping
from crier.delivery import worker as crier_worker
from crier.models import IdempotencyKey
from tests.publishing.helpers import write_sql
from tests.support.oauth import partner, sandbox  # noqa: F401
from tests.webhooks.conftest import create_endpoint  # noqa: F401


async def test_purge_forgets_expired_idempotency_keys_only(session):
    now = utcnow()
    for key, expires_at in (("old", now - timedelta(minutes=1)), ("fresh", now + timedelta(hours=1))):
        session.add(
            IdempotencyKey(
                organization_id="org_x",
                method="POST",
                path="/v1/x",
                key=key,
                request_hash="h",
                created_at=now,
                expires_at=expires_at,
            )
        )
    await session.commit()
    assert await housekeeping.purge_idempotency_keys({}) == 1
    assert await housekeeping.purge_idempotency_keys({}) == 0


async def test_heartbeats_of_workers_gone_for_a_day_are_forgotten(session):
    await session.execute(
        text(
            "INSERT INTO worker_heartbeats (worker_id, hostname, pid, started_at, seen_at) VALUES "
            "('dead', 'h', 1, now() - interval '3 days', now() - interval '2 days'), "
            "('alive', 'h', 2, now() - interval '3 days', now() - interval '1 minute')"
        )
    )
    await session.commit()
    await housekeeping.forget_dead_workers({})
    left = (await session.execute(text("SELECT worker_id FROM worker_heartbeats ORDER BY 1"))).scalars()
    assert list(left) == ["alive"]
    await session.execute(text("DELETE FROM worker_heartbeats"))
    await session.commit()


async def test_oauth_states_a_day_past_their_expiry_are_deleted(partner, session):
    kept = await partner.oauth_url("tiktok")
    gone = await partner.oauth_url("instagram")
    await write_sql(
        session,
        f"UPDATE oauth_states SET expires_at = now() - interval '2 days' "
        f"WHERE state_hash = '{hash_state(gone['state'])}'",
    )
    await housekeeping.purge_oauth_states({})
    left = (await session.execute(text("SELECT state_hash FROM oauth_states"))).scalars()
    assert list(left) == [hash_state(kept["state"])]


async def test_webhook_deliveries_pending_for_72_hours_are_abandoned(
    client, tenant, create_endpoint, session
):
    endpoint_id = (await create_endpoint(events=["test.ping"]))["endpoint"]["id"]
    response = await client.post(f"/v1/webhook-endpoints/{endpoint_id}/test", headers=tenant.headers)
    assert response.status_code == 202
    await write_sql(session, "UPDATE webhook_deliveries SET created_at = now() - interval '73 hours'")
    assert await housekeeping.abandon_stale_webhook_deliveries({}) == 1
    assert await housekeeping.abandon_stale_webhook_deliveries({}) == 0


async def test_every_periodic_job_is_an_arq_cron_run_by_one_worker_at_a_time():
    worker = crier_worker.create_crier_worker(handle_signals=False)
    names = {job.name for job in worker.cron_jobs}
    assert names == {
        "cron:purge_idempotency_keys",
        "cron:abandon_stale_webhook_deliveries",
        "cron:purge_oauth_states",
        "cron:forget_dead_workers",
    }
    assert all(job.unique for job in worker.cron_jobs)  # one run per instant, whichever worker takes it
