"""Every partner route the running Crier documents has an SDK call, on both clients.

Routes are matched by method and path with the parameter names blanked, so the webhook and social
routes (WEBHOOKS.md, ACCOUNTS.md) are checked as soon as they are served, whatever their handlers are called.
"""

from __future__ import annotations

import re

from crier_sdk import AsyncCrier, Crier

SDK_CALLS = {
    ("POST", "/v1/content"): "content.create",
    ("GET", "/v1/content/{}"): "content.get",
    ("PATCH", "/v1/content/{}"): "content.update",
    ("POST", "/v1/content/{}/approve"): "content.approve",
    ("POST", "/v1/content/{}/reject"): "content.reject",
    ("POST", "/v1/content/{}/publish"): "publishing.publish_now",
    ("POST", "/v1/content/{}/schedule"): "publishing.schedule",
    ("GET", "/v1/scheduled-posts/{}"): "scheduled_posts.get",
    ("DELETE", "/v1/scheduled-posts/{}"): "scheduled_posts.cancel",
    ("GET", "/v1/projects/{}/scheduled-posts"): "scheduled_posts.list",
    ("GET", "/v1/projects/{}/approval-policy"): "projects.approval_policy",
    ("GET", "/v1/social-accounts"): "accounts.list",
    ("GET", "/v1/tiktok-music"): "music.list",
    ("POST", "/v1/webhook-endpoints"): "webhooks.create",
    ("GET", "/v1/webhook-endpoints"): "webhooks.list",
    ("GET", "/v1/webhook-endpoints/{}"): "webhooks.get",
    ("PATCH", "/v1/webhook-endpoints/{}"): "webhooks.update",
    ("DELETE", "/v1/webhook-endpoints/{}"): "webhooks.delete",
    ("POST", "/v1/webhook-endpoints/{}/rotate-secret"): "webhooks.rotate_secret",
    ("POST", "/v1/webhook-endpoints/{}/test"): "webhooks.test",
    ("GET", "/v1/webhook-endpoints/{}/deliveries"): "webhooks.deliveries",
    ("POST", "/v1/webhook-deliveries/{}/replay"): "webhooks.replay_delivery",
    ("POST", "/v1/projects/{}/social/oauth-url"): "social.create_oauth_url",
    ("GET", "/v1/social/oauth-status/{}"): "social.get_oauth_status",
    ("POST", "/v1/projects/{}/social/reauth-url"): "social.create_reauth_url",
    ("GET", "/v1/projects/{}/social-accounts"): "social.list_accounts",
    ("GET", "/v1/projects/{}/social-accounts/{}/health"): "social.health",
    ("DELETE", "/v1/projects/{}/social-accounts/{}"): "social.revoke",
    ("POST", "/v1/content/{}/validate"): "publishing.validate",
    ("POST", "/v1/scheduled-posts/{}/retry"): "scheduled_posts.retry",
    ("GET", "/v1/scheduled-posts/{}/attempts"): "scheduled_posts.attempts",
    ("GET", "/v1/social-accounts/{}/quota"): "accounts.quota",
}


async def test_every_sdk_call_exists_on_both_clients():
    async with AsyncCrier("lp_live_test") as async_client:
        with Crier("lp_live_test") as sync_client:
            for client in (sync_client, async_client):
                for call in SDK_CALLS.values():
                    resource, method = call.split(".")
                    assert callable(getattr(getattr(client, resource), method)), (
                        f"{type(client).__name__}.{call}"
                    )


async def test_every_documented_partner_route_has_an_sdk_call(client):
    document = (await client.get("/openapi.json")).json()
    served = {
        (method.upper(), re.sub(r"{[^}]+}", "{}", path))
        for path, item in document["paths"].items()
        if path.startswith("/v1/")
        for method in item
    }

    assert served - set(SDK_CALLS) == set()
