"""`/metrics` (issue 12): requests by route template, PostgreSQL gauges, platform calls, delivery outcomes."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import respx
from prometheus_client.parser import text_string_to_metric_families

from crier.core.settings import get_settings
from crier.delivery.policy import next_transition
from crier.delivery.repository import ClaimedPost
from crier.observability import exposition, metrics
from crier.platforms.base import Outcome, PlatformError
from crier.platforms.http import create_http_client
from tests.publishing.helpers import later, publish, schedule, target, write_sql


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def scrape(client) -> dict:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


@pytest.fixture(autouse=True)
def fresh_status_counts():
    """Each test reads posts by status from PostgreSQL again (they are cached between scrapes)."""
    exposition.database_snapshot.status_counts_read_at = float("-inf")


async def test_requests_are_counted_by_route_template_and_status(client, tenant):
    before = await scrape(client)

    await client.get("/v1/content/cnt_00000000-0000-4000-8000-000000000000", headers=tenant.headers)
    after = await scrape(client)

    labels = {"method": "GET", "route": "/v1/content/{container_id}", "status": "404"}
    assert (
        value(after, "crier_http_requests_total", **labels)
        == value(before, "crier_http_requests_total", **labels) + 1
    )
    count = value(
        after, "crier_http_request_duration_seconds_count", method="GET", route="/v1/content/{container_id}"
    )
    assert count >= 1


async def test_an_unknown_path_is_one_bounded_label(client):
    before = await scrape(client)

    await client.get("/no/such/route/12345")
    after = await scrape(client)

    labels = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert (
        value(after, "crier_http_requests_total", **labels)
        == value(before, "crier_http_requests_total", **labels) + 1
    )
    assert not any("12345" in dict(labels_).get("route", "") for (_, labels_) in after)


async def test_posts_by_status_and_the_due_backlog_come_from_postgresql(client, tenant, session):
    container = await tenant.content()
    await schedule(tenant, container["id"], [target(tenant.tiktok)], scheduled_for=later(hours=2))
    response = await publish(tenant, container["id"], [target(tenant.tiktok), target(tenant.instagram)])
    [due, _] = response.json()["scheduledPostIds"]
    await write_sql(
        session, "UPDATE scheduled_posts SET due_at = now() - interval '90 seconds' WHERE id = :id", id=due
    )

    found = await scrape(client)

    assert value(found, "crier_posts", status="scheduled") == 3
    assert value(found, "crier_due_backlog_posts") == 2
    assert 90 <= value(found, "crier_due_oldest_age_seconds") < 120
    assert value(found, "crier_database_up") == 1


async def test_database_pool_usage_is_exposed(client):
    found = await scrape(client)

    assert value(found, "crier_db_pool_checkouts_total") >= 1  # the scrape itself read PostgreSQL
    assert value(found, "crier_db_pool_size") == get_settings().database_pool_size * 2
    assert ("crier_db_pool_connections_in_use", frozenset()) in found


@respx.mock
async def test_platform_calls_are_counted_by_platform_step_and_outcome():
    settings = get_settings()
    base = settings.tiktok_api_base
    respx.post(f"{base}/v2/post/publish/video/init/").mock(return_value=httpx.Response(200, json={}))
    respx.post(f"{base}/v2/oauth/token/").mock(
        return_value=httpx.Response(400, json={"error": "invalid_grant"})
    )
    init = ("crier_platform_calls_total", "tiktok", "post/publish/video/init", "2xx")
    refresh = ("crier_platform_calls_total", "tiktok", "oauth/token", "4xx")
    before = {key: metrics.PLATFORM_CALLS.labels(*key[1:])._value.get() for key in (init, refresh)}
    failures_before = metrics.TOKEN_REFRESH_FAILURES.labels("tiktok")._value.get()

    async with create_http_client(settings) as http:
        await http.post(f"{base}/v2/post/publish/video/init/", json={})
        await http.post(f"{base}/v2/oauth/token/", data={"grant_type": "refresh_token"})

    assert metrics.PLATFORM_CALLS.labels(*init[1:])._value.get() == before[init] + 1
    assert metrics.PLATFORM_CALLS.labels(*refresh[1:])._value.get() == before[refresh] + 1
    assert metrics.TOKEN_REFRESH_FAILURES.labels("tiktok")._value.get() == failures_before + 1


@pytest.mark.parametrize(
    ("url", "platform", "step"),
    [
        (
            "https://graph.facebook.com/v25.0/17841400000000042/media_publish?access_token=secret",
            "instagram",
            "{id}/media_publish",
        ),
        (
            "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json",
            "twilio",
            "2010-04-01/Accounts/{id}/Messages.json",
        ),
        (
            "https://provider.example/v1/dispatches/sp_8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999",
            "managed",
            "dispatches/{id}",
        ),
    ],
)
def test_platform_call_labels_carry_no_ids_or_tokens(url, platform, step):
    bases = [("instagram", "https://graph.facebook.com/v25.0"), ("twilio", "https://api.twilio.com")]

    assert metrics.classify_call(httpx.URL(url), bases) == (platform, step)


def _claim(platform: str = "tiktok", previous_status: str = "publishing") -> ClaimedPost:
    now = dt.datetime.now(dt.UTC)
    return ClaimedPost(
        id="sp_00000000-0000-4000-8000-000000000001",
        fence=1,
        platform=platform,
        mode="publish",
        request_id=None,
        attempted_at=now,
        retry_count=0,
        previous_status=previous_status,
        previous_lease_expires_at=None,
        claimed_at=now,
    )


def _transition(outcome: Outcome, retries_so_far: int = 0):
    return next_transition(
        outcome=outcome,
        platform="tiktok",
        retries_so_far=retries_so_far,
        elapsed_seconds=1,
        settings=get_settings(),
    )


def test_retries_failures_and_outcome_unknown_are_counted():
    retry = _transition(Outcome.retryable(PlatformError("NETWORK_ERROR", "reset", "tiktok")))
    unknown = _transition(Outcome.terminal(PlatformError("OUTCOME_UNKNOWN", "lost", "tiktok")))
    before = (
        metrics.POST_RETRIES.labels("tiktok", "NETWORK_ERROR")._value.get(),
        metrics.OUTCOME_UNKNOWN.labels("tiktok")._value.get(),
        metrics.POST_FAILURES.labels("tiktok", "OUTCOME_UNKNOWN")._value.get(),
        metrics.POST_TRANSITIONS.labels("tiktok", "publish", "failed")._value.get(),
    )

    metrics.record_transition(_claim(), retry)
    metrics.record_transition(_claim(), unknown)

    assert metrics.POST_RETRIES.labels("tiktok", "NETWORK_ERROR")._value.get() == before[0] + 1
    assert metrics.OUTCOME_UNKNOWN.labels("tiktok")._value.get() == before[1] + 1
    assert metrics.POST_FAILURES.labels("tiktok", "OUTCOME_UNKNOWN")._value.get() == before[2] + 1
    assert metrics.POST_TRANSITIONS.labels("tiktok", "publish", "failed")._value.get() == before[3] + 1


def test_start_lateness_is_observed_on_a_first_claim_only():
    histogram = metrics.START_LATENESS.labels("instagram")
    before = histogram._sum.get()
    claim = _claim("instagram", previous_status="scheduled")

    metrics.record_start(claim, claim.claimed_at - dt.timedelta(seconds=3))
    metrics.record_start(
        _claim("instagram", previous_status="publishing"), claim.claimed_at - dt.timedelta(hours=1)
    )

    assert histogram._sum.get() == pytest.approx(before + 3)


def test_webhook_sends_have_a_metric_to_record_into():
    before = metrics.WEBHOOK_SENDS.labels("post.published", "delivered")._value.get()

    metrics.record_webhook_send("post.published", "delivered", 0.2)

    assert metrics.WEBHOOK_SENDS.labels("post.published", "delivered")._value.get() == before + 1
