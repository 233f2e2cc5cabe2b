"""Every SDK method sends the contract's request and returns the contract's answer as a typed model.

Each case runs through the sync `Crier` and the async `AsyncCrier` (the same wire, generated code).
Webhook and social-account calls are checked against WEBHOOKS.md / ACCOUNTS.md shapes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from crier_sdk import Target, TiktokMusic
from crier_sdk import models as m
from tests.sdk import wire_examples as ex
from tests.sdk.support import BASE, resolve


@dataclass
class Case:
    name: str
    call: Callable[[Any], Any]
    method: str
    path: str
    answer: Any
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)
    status: int = 200
    check: Callable[[Any], bool] = lambda result: True


WHEN = datetime(2026, 5, 1, 14, 0, tzinfo=UTC)
CASES = [
    Case(
        "content.create",
        lambda c: c.content.create(
            project_id=ex.PROJECT_ID,
            media_type="video",
            media=["https://cdn.example.com/clip.mp4"],
            caption="Launch day",
        ),
        "POST",
        "/v1/content",
        ex.CONTAINER,
        status=201,
        body={
            "projectId": ex.PROJECT_ID,
            "mediaType": "video",
            "media": [{"url": "https://cdn.example.com/clip.mp4"}],
            "caption": "Launch day",
        },
        check=lambda r: isinstance(r, m.ContentContainer) and r.approval_status == "pending",
    ),
    Case(
        "content.get",
        lambda c: c.content.get(ex.CONTAINER_ID),
        "GET",
        f"/v1/content/{ex.CONTAINER_ID}",
        ex.CONTAINER,
        check=lambda r: r.created_at == datetime(2026, 4, 18, 9, 40, 12, tzinfo=UTC),
    ),
    Case(
        "content.update sends only what is passed, None as null",
        lambda c: c.content.update(ex.CONTAINER_ID, caption="New", first_comment=None),
        "PATCH",
        f"/v1/content/{ex.CONTAINER_ID}",
        ex.CONTAINER,
        body={"caption": "New", "firstComment": None},
        check=lambda r: isinstance(r, m.ContentContainer),
    ),
    Case(
        "content.approve",
        lambda c: c.content.approve(ex.CONTAINER_ID, note="Looks good."),
        "POST",
        f"/v1/content/{ex.CONTAINER_ID}/approve",
        ex.APPROVAL,
        body={"note": "Looks good."},
        check=lambda r: (
            isinstance(r, m.Approval) and r.pending_schedule_promotion.scheduled_post_ids == [ex.POST_ID]
        ),
    ),
    Case(
        "content.reject",
        lambda c: c.content.reject(ex.CONTAINER_ID, reason="Off brand"),
        "POST",
        f"/v1/content/{ex.CONTAINER_ID}/reject",
        ex.REJECTION,
        body={"reason": "Off brand"},
        check=lambda r: isinstance(r, m.Rejection) and r.canceled_scheduled_post_ids == [ex.POST_ID],
    ),
    Case(
        "publishing.publish_now takes the seed's dict targets",
        lambda c: c.publishing.publish_now(
            container_id=ex.CONTAINER_ID, targets=[{"socialAccountId": ex.ACCOUNT_ID, "mode": "publish"}]
        ),
        "POST",
        f"/v1/content/{ex.CONTAINER_ID}/publish",
        {"scheduledPostIds": [ex.POST_ID]},
        body={"targets": [{"socialAccountId": ex.ACCOUNT_ID, "mode": "publish"}]},
        check=lambda r: isinstance(r, m.PublishResult) and r.scheduled_post_ids == [ex.POST_ID],
    ),
    Case(
        "publishing.schedule takes Target models and an aware datetime",
        lambda c: c.publishing.schedule(
            ex.CONTAINER_ID,
            scheduled_for=WHEN,
            targets=[
                Target(social_account_id=ex.ACCOUNT_ID, mode="publish", tiktok_music=TiktokMusic(mode="auto"))
            ],
        ),
        "POST",
        f"/v1/content/{ex.CONTAINER_ID}/schedule",
        {
            "scheduledPostIds": [ex.POST_ID],
            "gateStatus": "queued",
            "scheduledFor": "2026-05-01T14:00:00.000Z",
        },
        body={
            "targets": [
                {"socialAccountId": ex.ACCOUNT_ID, "mode": "publish", "tiktokMusic": {"mode": "auto"}}
            ],
            "scheduledFor": "2026-05-01T14:00:00+00:00",
        },
        check=lambda r: (
            isinstance(r, m.ScheduleResult) and r.gate_status == "queued" and r.scheduled_for == WHEN
        ),
    ),
    Case(
        "publishing.validate sends /publish's body and reads the problems per target",
        lambda c: c.publishing.validate(
            ex.CONTAINER_ID, targets=[{"socialAccountId": ex.ACCOUNT_ID, "mode": "publish"}]
        ),
        "POST",
        f"/v1/content/{ex.CONTAINER_ID}/validate",
        {
            "ok": False,
            "targets": [
                {
                    "socialAccountId": ex.ACCOUNT_ID,
                    "problems": [
                        {
                            "code": "CAPTION_TOO_LONG",
                            "message": "TikTok titles take 2200 characters.",
                            "field": "caption",
                        }
                    ],
                }
            ],
        },
        body={"targets": [{"socialAccountId": ex.ACCOUNT_ID, "mode": "publish"}]},
        check=lambda r: isinstance(r, m.Validation) and r.targets[0].problems[0].code == "CAPTION_TOO_LONG",
    ),
    Case(
        "scheduled_posts.retry",
        lambda c: c.scheduled_posts.retry(ex.POST_ID),
        "POST",
        f"/v1/scheduled-posts/{ex.POST_ID}/retry",
        ex.POST,
        check=lambda r: isinstance(r, m.ScheduledPost) and r.status == "scheduled",
    ),
    Case(
        "scheduled_posts.attempts",
        lambda c: c.scheduled_posts.attempts(ex.POST_ID),
        "GET",
        f"/v1/scheduled-posts/{ex.POST_ID}/attempts",
        {
            "items": [
                {
                    "number": 1,
                    "startedAt": ex.TIME,
                    "endedAt": None,
                    "step": "init",
                    "outcome": "in_progress",
                    "error": None,
                }
            ]
        },
        check=lambda r: isinstance(r[0], m.Attempt) and r[0].step == "init",
    ),
    Case(
        "accounts.quota",
        lambda c: c.accounts.quota(ex.ACCOUNT_ID),
        "GET",
        f"/v1/social-accounts/{ex.ACCOUNT_ID}/quota",
        {
            "platform": "tiktok",
            "limits": [
                {
                    "name": "init",
                    "window": 60,
                    "limit": 6,
                    "used": 2,
                    "resetsAt": ex.TIME,
                    "source": "documented",
                }
            ],
        },
        check=lambda r: isinstance(r, m.Quota) and r.limits[0].limit == 6,
    ),
    Case(
        "scheduled_posts.get",
        lambda c: c.scheduled_posts.get(ex.POST_ID),
        "GET",
        f"/v1/scheduled-posts/{ex.POST_ID}",
        ex.POST,
        check=lambda r: isinstance(r, m.ScheduledPost) and r.status == "scheduled",
    ),
    Case(
        "scheduled_posts.cancel",
        lambda c: c.scheduled_posts.cancel(ex.POST_ID),
        "DELETE",
        f"/v1/scheduled-posts/{ex.POST_ID}",
        {**ex.POST, "status": "canceled", "canceledAt": ex.TIME},
        check=lambda r: r.status == "canceled" and r.canceled_at is not None,
    ),
    Case(
        "scheduled_posts.list_page passes every filter by its wire name",
        lambda c: c.scheduled_posts.list_page(
            ex.PROJECT_ID,
            status="failed",
            platform="tiktok",
            mode="publish",
            container_id=ex.CONTAINER_ID,
            social_account_id=ex.ACCOUNT_ID,
            scheduled_from=WHEN,
            scheduled_to=WHEN,
            q="launch",
            limit=10,
            cursor="abc",
        ),
        "GET",
        f"/v1/projects/{ex.PROJECT_ID}/scheduled-posts",
        {"items": [ex.POST], "nextCursor": "next"},
        params={
            "status": "failed",
            "platform": "tiktok",
            "mode": "publish",
            "containerId": ex.CONTAINER_ID,
            "socialAccountId": ex.ACCOUNT_ID,
            "from": "2026-05-01T14:00:00+00:00",
            "to": "2026-05-01T14:00:00+00:00",
            "q": "launch",
            "limit": "10",
            "cursor": "abc",
        },
        check=lambda r: r.next_cursor == "next" and isinstance(r.items[0], m.ScheduledPost),
    ),
    Case(
        "projects.approval_policy",
        lambda c: c.projects.approval_policy(ex.PROJECT_ID),
        "GET",
        f"/v1/projects/{ex.PROJECT_ID}/approval-policy",
        ex.POLICY,
        check=lambda r: isinstance(r, m.ApprovalPolicy) and r.first_n_posts_blocked == 3 and not r.gate_open,
    ),
    Case(
        "accounts.list",
        lambda c: c.accounts.list(project_id=ex.PROJECT_ID),
        "GET",
        "/v1/social-accounts",
        {"items": [ex.ACCOUNT]},
        params={"projectId": ex.PROJECT_ID},
        check=lambda r: isinstance(r[0], m.SocialAccount) and r[0].readiness.publish,
    ),
    Case(
        "music.list",
        lambda c: c.music.list(),
        "GET",
        "/v1/tiktok-music",
        {"items": [ex.TRACK]},
        check=lambda r: isinstance(r[0], m.MusicTrack) and r[0].artist == "The Fakes",
    ),
    Case(
        "webhooks.create",
        lambda c: c.webhooks.create(
            url="https://partner.example.com/hooks",
            events=["post.published"],
            description="prod",
            metadata={"team": "growth"},
        ),
        "POST",
        "/v1/webhook-endpoints",
        {"endpoint": ex.ENDPOINT, "signingSecret": ex.SECRET},
        status=201,
        body={
            "url": "https://partner.example.com/hooks",
            "events": ["post.published"],
            "description": "prod",
            "metadata": {"team": "growth"},
        },
        check=lambda r: isinstance(r.endpoint, m.WebhookEndpoint) and r.signing_secret == ex.SECRET,
    ),
    Case(
        "webhooks.list_page",
        lambda c: c.webhooks.list_page(limit=5),
        "GET",
        "/v1/webhook-endpoints",
        {"items": [ex.ENDPOINT], "nextCursor": None},
        params={"limit": "5"},
        check=lambda r: r.items[0].status == "active" and r.next_cursor is None,
    ),
    Case(
        "webhooks.get",
        lambda c: c.webhooks.get(ex.ENDPOINT_ID),
        "GET",
        f"/v1/webhook-endpoints/{ex.ENDPOINT_ID}",
        ex.ENDPOINT,
        check=lambda r: isinstance(r, m.WebhookEndpoint) and r.metadata == {"team": "growth"},
    ),
    Case(
        "webhooks.update",
        lambda c: c.webhooks.update(ex.ENDPOINT_ID, status="active", description=None),
        "PATCH",
        f"/v1/webhook-endpoints/{ex.ENDPOINT_ID}",
        ex.ENDPOINT,
        body={"status": "active", "description": None},
        check=lambda r: isinstance(r, m.WebhookEndpoint),
    ),
    Case(
        "webhooks.delete",
        lambda c: c.webhooks.delete(ex.ENDPOINT_ID),
        "DELETE",
        f"/v1/webhook-endpoints/{ex.ENDPOINT_ID}",
        None,
        status=204,
        check=lambda r: r is None,
    ),
    Case(
        "webhooks.rotate_secret",
        lambda c: c.webhooks.rotate_secret(ex.ENDPOINT_ID),
        "POST",
        f"/v1/webhook-endpoints/{ex.ENDPOINT_ID}/rotate-secret",
        {"signingSecret": ex.SECRET},
        check=lambda r: isinstance(r, m.SigningSecret) and r.signing_secret.startswith("whsec_"),
    ),
    Case(
        "webhooks.test",
        lambda c: c.webhooks.test(ex.ENDPOINT_ID),
        "POST",
        f"/v1/webhook-endpoints/{ex.ENDPOINT_ID}/test",
        {"eventId": "evt_01HXZ9ABCDEFGHJKMNPQRSTVWX"},
        status=202,
        check=lambda r: r == {"eventId": "evt_01HXZ9ABCDEFGHJKMNPQRSTVWX"},
    ),
    Case(
        "webhooks.deliveries_page",
        lambda c: c.webhooks.deliveries_page(
            ex.ENDPOINT_ID, status="failed", event_type="post.failed", limit=3
        ),
        "GET",
        f"/v1/webhook-endpoints/{ex.ENDPOINT_ID}/deliveries",
        {"items": [ex.DELIVERY], "nextCursor": None},
        params={"status": "failed", "eventType": "post.failed", "limit": "3"},
        check=lambda r: isinstance(r.items[0], m.WebhookDelivery) and r.items[0].last_response_status == 200,
    ),
    Case(
        "webhooks.replay_delivery",
        lambda c: c.webhooks.replay_delivery(ex.DELIVERY_ID),
        "POST",
        f"/v1/webhook-deliveries/{ex.DELIVERY_ID}/replay",
        {"eventId": "evt_01HXZ9ZZZZZZZZZZZZZZZZZZZZ", "replayOf": "evt_01HXZ9ABCDEFGHJKMNPQRSTVWX"},
        status=202,
        check=lambda r: r["replayOf"] == "evt_01HXZ9ABCDEFGHJKMNPQRSTVWX",
    ),
    Case(
        "social.create_oauth_url",
        lambda c: c.social.create_oauth_url(
            ex.PROJECT_ID,
            platform="tiktok",
            return_url="https://partner.example.com/connected",
            usage_note="hi",
        ),
        "POST",
        f"/v1/projects/{ex.PROJECT_ID}/social/oauth-url",
        ex.OAUTH_URL,
        body={"platform": "tiktok", "returnUrl": "https://partner.example.com/connected", "usageNote": "hi"},
        check=lambda r: isinstance(r, m.OAuthUrl) and r.state == "st_abc",
    ),
    Case(
        "social.get_oauth_status",
        lambda c: c.social.get_oauth_status("st_abc"),
        "GET",
        "/v1/social/oauth-status/st_abc",
        ex.OAUTH_STATUS,
        check=lambda r: isinstance(r, m.OAuthStatus) and r.social_account_id == ex.ACCOUNT_ID,
    ),
    Case(
        "social.create_reauth_url",
        lambda c: c.social.create_reauth_url(
            ex.PROJECT_ID,
            social_account_id=ex.ACCOUNT_ID,
            return_url="https://partner.example.com/back",
            scopes=["video.publish"],
        ),
        "POST",
        f"/v1/projects/{ex.PROJECT_ID}/social/reauth-url",
        ex.OAUTH_URL,
        body={
            "socialAccountId": ex.ACCOUNT_ID,
            "returnUrl": "https://partner.example.com/back",
            "scopes": ["video.publish"],
        },
        check=lambda r: isinstance(r, m.OAuthUrl),
    ),
    Case(
        "social.list_accounts_page",
        lambda c: c.social.list_accounts_page(ex.PROJECT_ID, limit=2),
        "GET",
        f"/v1/projects/{ex.PROJECT_ID}/social-accounts",
        {"items": [ex.CONNECTED_ACCOUNT], "nextCursor": None},
        params={"limit": "2"},
        check=lambda r: r.items[0].display_name == "Creator",
    ),
    Case(
        "social.health",
        lambda c: c.social.health(ex.PROJECT_ID, ex.ACCOUNT_ID),
        "GET",
        f"/v1/projects/{ex.PROJECT_ID}/social-accounts/{ex.ACCOUNT_ID}/health",
        ex.HEALTH,
        check=lambda r: isinstance(r, m.AccountHealth) and r.missing_scopes.draft == ["video.upload"],
    ),
    Case(
        "social.revoke",
        lambda c: c.social.revoke(ex.PROJECT_ID, ex.ACCOUNT_ID),
        "DELETE",
        f"/v1/projects/{ex.PROJECT_ID}/social-accounts/{ex.ACCOUNT_ID}",
        {**ex.CONNECTED_ACCOUNT, "status": "revoked"},
        check=lambda r: isinstance(r, m.SocialAccount) and r.status == "revoked",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_each_method_sends_the_contracts_request_and_types_the_answer(sdk, case: Case):
    with respx.mock(base_url=BASE, assert_all_called=True) as mock:
        answer = (
            httpx.Response(case.status, json=case.answer) if case.answer is not None else httpx.Response(204)
        )
        route = mock.route(method=case.method, path=case.path).mock(return_value=answer)

        result = await resolve(case.call(sdk))

    [call] = route.calls
    sent = call.request
    assert sent.headers["authorization"] == "Bearer lp_live_test"
    assert (json.loads(sent.content) if sent.content else None) == case.body
    assert dict(sent.url.params) == case.params
    if case.method == "POST":
        assert uuid.UUID(sent.headers["idempotency-key"]).version == 4
    else:
        assert "idempotency-key" not in sent.headers
    assert case.check(result), result


async def test_a_given_idempotency_key_is_sent_as_is(sdk):
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(f"/v1/content/{ex.CONTAINER_ID}/publish").respond(
            200, json={"scheduledPostIds": []}
        )

        await resolve(
            sdk.publishing.publish_now(
                container_id=ex.CONTAINER_ID,
                idempotency_key="my-key-1",
                targets=[{"socialAccountId": ex.ACCOUNT_ID, "mode": "draft"}],
            )
        )

    assert route.calls.last.request.headers["idempotency-key"] == "my-key-1"


async def test_each_post_call_gets_its_own_key(sdk):
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(f"/v1/content/{ex.CONTAINER_ID}/approve").respond(200, json=ex.APPROVAL)

        await resolve(sdk.content.approve(ex.CONTAINER_ID))
        await resolve(sdk.content.approve(ex.CONTAINER_ID))

    first, second = (call.request.headers["idempotency-key"] for call in route.calls)
    assert first != second


async def test_list_follows_next_cursor_until_the_last_page(sdk):
    second_post = {**ex.POST, "id": "sp_5d9f8e30-0b2c-4d4e-9f80-3b2c4d5e6f71"}
    with respx.mock(base_url=BASE) as mock:
        route = mock.get(f"/v1/projects/{ex.PROJECT_ID}/scheduled-posts").mock(
            side_effect=[
                httpx.Response(200, json={"items": [ex.POST], "nextCursor": "page-2"}),
                httpx.Response(200, json={"items": [second_post], "nextCursor": None}),
            ]
        )

        posts = await resolve(sdk.scheduled_posts.list(ex.PROJECT_ID, status="scheduled", limit=1))

    assert [post.id for post in posts] == [ex.POST_ID, second_post["id"]]
    assert [call.request.url.params.get("cursor") for call in route.calls] == [None, "page-2"]
    assert all(call.request.url.params["status"] == "scheduled" for call in route.calls)


async def test_webhook_endpoints_and_deliveries_iterate_over_cursors(sdk):
    with respx.mock(base_url=BASE) as mock:
        mock.get("/v1/webhook-endpoints").mock(
            side_effect=[
                httpx.Response(200, json={"items": [ex.ENDPOINT], "nextCursor": "c2"}),
                httpx.Response(200, json={"items": [ex.ENDPOINT], "nextCursor": None}),
            ]
        )
        mock.get(f"/v1/webhook-endpoints/{ex.ENDPOINT_ID}/deliveries").respond(
            200, json={"items": [ex.DELIVERY, ex.DELIVERY], "nextCursor": None}
        )
        mock.get(f"/v1/projects/{ex.PROJECT_ID}/social-accounts").respond(
            200, json={"items": [ex.CONNECTED_ACCOUNT], "nextCursor": None}
        )

        endpoints = await resolve(sdk.webhooks.list())
        deliveries = await resolve(sdk.webhooks.deliveries(ex.ENDPOINT_ID))
        accounts = await resolve(sdk.social.list_accounts(ex.PROJECT_ID))

    assert len(endpoints) == 2 and len(deliveries) == 2 and accounts[0].handle == "creator"


async def test_a_naive_datetime_is_refused_before_anything_is_sent(sdk):
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.post(f"/v1/content/{ex.CONTAINER_ID}/schedule")
        with pytest.raises(ValueError, match="timezone-aware"):
            await resolve(
                sdk.publishing.schedule(
                    ex.CONTAINER_ID,
                    scheduled_for=datetime(2026, 5, 1),
                    targets=[{"socialAccountId": ex.ACCOUNT_ID, "mode": "publish"}],
                )
            )
    assert not route.called


async def test_answers_keep_fields_a_newer_crier_adds(sdk):
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/v1/scheduled-posts/{ex.POST_ID}").respond(200, json={**ex.POST, "attempts": 2})

        post = await resolve(sdk.scheduled_posts.get(ex.POST_ID))

    assert post.model_extra == {"attempts": 2}


async def test_an_id_cannot_escape_its_path_segment(sdk):
    with respx.mock(base_url=BASE) as mock:
        route = mock.route().respond(200, json=ex.CONTAINER)

        await resolve(sdk.content.get("../admin?x"))

    assert route.calls.last.request.url.raw_path == b"/v1/content/..%2Fadmin%3Fx"


def test_the_sync_client_is_generated_from_the_async_one():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "sdk" / "scripts" / "unasync.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr


async def test_an_empty_answer_to_an_open_shaped_call_is_an_empty_dict(sdk):
    with respx.mock(base_url=BASE) as mock:
        mock.post(f"/v1/webhook-endpoints/{ex.ENDPOINT_ID}/test").respond(202)

        assert await resolve(sdk.webhooks.test(ex.ENDPOINT_ID)) == {}
