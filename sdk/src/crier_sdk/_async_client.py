"""The async client. `_sync_client.py` is generated from this file by `sdk/scripts/unasync.py`:
edit this one, then run `python sdk/scripts/unasync.py` (a test fails while the two disagree).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any, Self
from urllib.parse import quote

import httpx

from crier_sdk import _http
from crier_sdk._http import OMIT
from crier_sdk.errors import CrierConnectionError
from crier_sdk.models import (
    AccountHealth,
    Approval,
    ApprovalPolicy,
    Attempt,
    AttemptList,
    ContentContainer,
    Media,
    MusicCatalog,
    MusicTrack,
    OAuthStatus,
    OAuthUrl,
    Page,
    PublishResult,
    Quota,
    Rejection,
    ScheduledPost,
    ScheduleResult,
    SigningSecret,
    SocialAccount,
    SocialAccountList,
    Target,
    Validation,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreated,
    WebhookEventType,
)


def _segment(value: str) -> str:
    """An id as one path segment (a `/` or `?` in it cannot reach another route)."""
    return quote(value, safe="")


class AsyncCrier:
    """Crier's partner API.

    >>> async with AsyncCrier(api_key="lp_live_...", base_url="http://127.0.0.1:8000") as crier:
    ...     result = await crier.publishing.publish_now(container_id=..., targets=[...])
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = _http.DEFAULT_BASE_URL,
        timeout: float = 30.0,
        max_retries: int = 2,
        max_retry_wait: float = 60.0,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._http = http_client or httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self._owns_http = http_client is None
        self._headers = _http.headers(api_key)
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.content = AsyncContent(self)
        self.publishing = AsyncPublishing(self)
        self.scheduled_posts = AsyncScheduledPosts(self)
        self.projects = AsyncProjects(self)
        self.accounts = AsyncAccounts(self)
        self.music = AsyncMusic(self)
        self.webhooks = AsyncWebhooks(self)
        self.social = AsyncSocial(self)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """One call, retried on 429/503 as Retry-After says; a POST keeps one Idempotency-Key throughout."""
        headers = {**self._headers, **_http.idempotency_headers(method, idempotency_key)}
        attempt = 0
        while True:
            try:
                response = await self._http.request(method, path, json=json, params=params, headers=headers)
            except httpx.TransportError as exc:
                raise CrierConnectionError(f"{method} {path}: {exc!r}") from exc
            delay = _http.retry_delay(
                response, attempt, max_retries=self.max_retries, max_wait=self.max_retry_wait
            )
            if delay is None:
                return response
            attempt += 1
            await asyncio.sleep(delay)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class _AsyncResource:
    def __init__(self, client: AsyncCrier) -> None:
        self._client = client


class AsyncContent(_AsyncResource):
    """`/v1/content`: containers and their approval."""

    async def create(
        self,
        *,
        project_id: str,
        media_type: str,
        media: Iterable[Media | Mapping[str, Any] | str],
        caption: str | None = None,
        first_comment: str | None = None,
        status: str | None = None,
        idempotency_key: str | None = None,
    ) -> ContentContainer:
        items = [{"url": item} if isinstance(item, str) else item for item in media]
        payload = _http.body(
            projectId=project_id,
            mediaType=media_type,
            media=items,
            caption=caption,
            firstComment=first_comment,
            status=status,
        )
        response = await self._client.request(
            "POST", "/v1/content", json=payload, idempotency_key=idempotency_key
        )
        return _http.parse(response, ContentContainer)

    async def get(self, container_id: str) -> ContentContainer:
        response = await self._client.request("GET", f"/v1/content/{_segment(container_id)}")
        return _http.parse(response, ContentContainer)

    async def update(
        self,
        container_id: str,
        *,
        status: str | None = OMIT,
        media: Iterable[Media | Mapping[str, Any] | str] | None = OMIT,
        caption: str | None = OMIT,
        first_comment: str | None = OMIT,
    ) -> ContentContainer:
        if media is not OMIT and media is not None:
            media = [{"url": item} if isinstance(item, str) else item for item in media]
        payload = _http.patch_body(status=status, media=media, caption=caption, firstComment=first_comment)
        response = await self._client.request("PATCH", f"/v1/content/{_segment(container_id)}", json=payload)
        return _http.parse(response, ContentContainer)

    async def approve(
        self, container_id: str, *, note: str | None = None, idempotency_key: str | None = None
    ) -> Approval:
        response = await self._client.request(
            "POST",
            f"/v1/content/{_segment(container_id)}/approve",
            json=_http.body(note=note),
            idempotency_key=idempotency_key,
        )
        return _http.parse(response, Approval)

    async def reject(
        self, container_id: str, *, reason: str | None = None, idempotency_key: str | None = None
    ) -> Rejection:
        response = await self._client.request(
            "POST",
            f"/v1/content/{_segment(container_id)}/reject",
            json=_http.body(reason=reason),
            idempotency_key=idempotency_key,
        )
        return _http.parse(response, Rejection)


class AsyncPublishing(_AsyncResource):
    """`POST /v1/content/{id}/publish` and `/schedule` (1–50 targets, all-or-nothing)."""

    async def publish_now(
        self,
        container_id: str,
        *,
        targets: Iterable[Target | Mapping[str, Any]],
        idempotency_key: str | None = None,
    ) -> PublishResult:
        response = await self._client.request(
            "POST",
            f"/v1/content/{_segment(container_id)}/publish",
            json={"targets": _http.targets_body(targets)},
            idempotency_key=idempotency_key,
        )
        return _http.parse(response, PublishResult)

    async def schedule(
        self,
        container_id: str,
        *,
        targets: Iterable[Target | Mapping[str, Any]],
        scheduled_for: datetime,
        idempotency_key: str | None = None,
    ) -> ScheduleResult:
        response = await self._client.request(
            "POST",
            f"/v1/content/{_segment(container_id)}/schedule",
            json={"targets": _http.targets_body(targets), "scheduledFor": _http.wire(scheduled_for)},
            idempotency_key=idempotency_key,
        )
        return _http.parse(response, ScheduleResult)

    async def validate(
        self,
        container_id: str,
        *,
        targets: Iterable[Target | Mapping[str, Any]],
        idempotency_key: str | None = None,
    ) -> Validation:
        """Preflight: `/publish`'s checks and the live ones, nothing written (a Crier extension)."""
        response = await self._client.request(
            "POST",
            f"/v1/content/{_segment(container_id)}/validate",
            json={"targets": _http.targets_body(targets)},
            idempotency_key=idempotency_key,
        )
        return _http.parse(response, Validation)


class AsyncScheduledPosts(_AsyncResource):
    """`/v1/scheduled-posts/{id}` and a project's history."""

    async def get(self, post_id: str) -> ScheduledPost:
        response = await self._client.request("GET", f"/v1/scheduled-posts/{_segment(post_id)}")
        return _http.parse(response, ScheduledPost)

    async def cancel(self, post_id: str) -> ScheduledPost:
        response = await self._client.request("DELETE", f"/v1/scheduled-posts/{_segment(post_id)}")
        return _http.parse(response, ScheduledPost)

    async def retry(self, post_id: str, *, idempotency_key: str | None = None) -> ScheduledPost:
        """Re-queue a failed post under the same id when the platform surely has no copy (else 409)."""
        response = await self._client.request(
            "POST", f"/v1/scheduled-posts/{_segment(post_id)}/retry", idempotency_key=idempotency_key
        )
        return _http.parse(response, ScheduledPost)

    async def attempts(self, post_id: str) -> list[Attempt]:
        """Every delivery attempt of the post, oldest first."""
        response = await self._client.request("GET", f"/v1/scheduled-posts/{_segment(post_id)}/attempts")
        return _http.parse(response, AttemptList).items

    async def list_page(
        self,
        project_id: str,
        *,
        status: str | None = None,
        platform: str | None = None,
        mode: str | None = None,
        container_id: str | None = None,
        social_account_id: str | None = None,
        scheduled_from: datetime | None = None,
        scheduled_to: datetime | None = None,
        q: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[ScheduledPost]:
        """One page of the history, in scheduledFor then id order."""
        params = _http.query(
            status=status,
            platform=platform,
            mode=mode,
            containerId=container_id,
            socialAccountId=social_account_id,
            to=scheduled_to,
            q=q,
            limit=limit,
            cursor=cursor,
            **{"from": scheduled_from},
        )
        response = await self._client.request(
            "GET", f"/v1/projects/{_segment(project_id)}/scheduled-posts", params=params
        )
        return _http.parse(response, Page[ScheduledPost])

    async def list(
        self,
        project_id: str,
        *,
        status: str | None = None,
        platform: str | None = None,
        mode: str | None = None,
        container_id: str | None = None,
        social_account_id: str | None = None,
        scheduled_from: datetime | None = None,
        scheduled_to: datetime | None = None,
        q: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[ScheduledPost]:
        """Every matching post, following `nextCursor` page after page (`limit` is the page size)."""
        cursor: str | None = None
        while True:
            page = await self.list_page(
                project_id,
                status=status,
                platform=platform,
                mode=mode,
                container_id=container_id,
                social_account_id=social_account_id,
                scheduled_from=scheduled_from,
                scheduled_to=scheduled_to,
                q=q,
                limit=limit,
                cursor=cursor,
            )
            for post in page.items:
                yield post
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


class AsyncProjects(_AsyncResource):
    async def approval_policy(self, project_id: str) -> ApprovalPolicy:
        response = await self._client.request("GET", f"/v1/projects/{_segment(project_id)}/approval-policy")
        return _http.parse(response, ApprovalPolicy)


class AsyncAccounts(_AsyncResource):
    async def list(self, *, project_id: str | None = None) -> list[SocialAccount]:
        """`GET /v1/social-accounts`: the organization's accounts (of one project when given)."""
        response = await self._client.request(
            "GET", "/v1/social-accounts", params=_http.query(projectId=project_id)
        )
        return _http.parse(response, SocialAccountList).items

    async def quota(self, account_id: str) -> Quota:
        """`GET /v1/social-accounts/{id}/quota`: the platform limits and what is used of them."""
        response = await self._client.request("GET", f"/v1/social-accounts/{_segment(account_id)}/quota")
        return _http.parse(response, Quota)


class AsyncMusic(_AsyncResource):
    async def list(self) -> list[MusicTrack]:
        """`GET /v1/tiktok-music`: the track catalog for `tiktokMusic.trackId`."""
        response = await self._client.request("GET", "/v1/tiktok-music")
        return _http.parse(response, MusicCatalog).items


class AsyncWebhooks(_AsyncResource):
    """Webhook endpoints and their deliveries (WEBHOOKS.md §1)."""

    async def create(
        self,
        *,
        url: str,
        events: Iterable[WebhookEventType],
        description: str | None = None,
        project_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookEndpointCreated:
        """The endpoint and its `signing_secret`, which is shown only here."""
        payload = _http.body(
            url=url, events=list(events), description=description, projectId=project_id, metadata=metadata
        )
        response = await self._client.request(
            "POST", "/v1/webhook-endpoints", json=payload, idempotency_key=idempotency_key
        )
        return _http.parse(response, WebhookEndpointCreated)

    async def list_page(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[WebhookEndpoint]:
        response = await self._client.request(
            "GET", "/v1/webhook-endpoints", params=_http.query(limit=limit, cursor=cursor)
        )
        return _http.parse(response, Page[WebhookEndpoint])

    async def list(self, *, limit: int | None = None) -> AsyncIterator[WebhookEndpoint]:
        cursor: str | None = None
        while True:
            page = await self.list_page(limit=limit, cursor=cursor)
            for endpoint in page.items:
                yield endpoint
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def get(self, endpoint_id: str) -> WebhookEndpoint:
        response = await self._client.request("GET", f"/v1/webhook-endpoints/{_segment(endpoint_id)}")
        return _http.parse(response, WebhookEndpoint)

    async def update(
        self,
        endpoint_id: str,
        *,
        url: str = OMIT,
        events: Iterable[WebhookEventType] = OMIT,
        description: str | None = OMIT,
        metadata: Mapping[str, Any] | None = OMIT,
        status: str = OMIT,
    ) -> WebhookEndpoint:
        """Change what is passed; `status="active"` re-activates an auto-paused endpoint."""
        payload = _http.patch_body(
            url=url,
            events=events if events is OMIT else list(events),
            description=description,
            metadata=metadata,
            status=status,
        )
        response = await self._client.request(
            "PATCH", f"/v1/webhook-endpoints/{_segment(endpoint_id)}", json=payload
        )
        return _http.parse(response, WebhookEndpoint)

    async def delete(self, endpoint_id: str) -> None:
        _http.check(await self._client.request("DELETE", f"/v1/webhook-endpoints/{_segment(endpoint_id)}"))

    async def rotate_secret(self, endpoint_id: str, *, idempotency_key: str | None = None) -> SigningSecret:
        """A new signing secret; for 24 hours both the old and the new one sign."""
        response = await self._client.request(
            "POST",
            f"/v1/webhook-endpoints/{_segment(endpoint_id)}/rotate-secret",
            idempotency_key=idempotency_key,
        )
        return _http.parse(response, SigningSecret)

    async def test(self, endpoint_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """Queue a `test.ping` event to this endpoint only; Crier's answer as it gives it."""
        response = await self._client.request(
            "POST", f"/v1/webhook-endpoints/{_segment(endpoint_id)}/test", idempotency_key=idempotency_key
        )
        return _http.parse_object(response)

    async def deliveries_page(
        self,
        endpoint_id: str,
        *,
        status: str | None = None,
        event_type: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[WebhookDelivery]:
        response = await self._client.request(
            "GET",
            f"/v1/webhook-endpoints/{_segment(endpoint_id)}/deliveries",
            params=_http.query(status=status, eventType=event_type, limit=limit, cursor=cursor),
        )
        return _http.parse(response, Page[WebhookDelivery])

    async def deliveries(
        self,
        endpoint_id: str,
        *,
        status: str | None = None,
        event_type: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[WebhookDelivery]:
        """Every delivery to the endpoint, newest first, following the cursor."""
        cursor: str | None = None
        while True:
            page = await self.deliveries_page(
                endpoint_id, status=status, event_type=event_type, limit=limit, cursor=cursor
            )
            for delivery in page.items:
                yield delivery
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def replay_delivery(
        self, delivery_id: str, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Send a delivery's data again as a new event (its `replayOf` is the original event id)."""
        response = await self._client.request(
            "POST", f"/v1/webhook-deliveries/{_segment(delivery_id)}/replay", idempotency_key=idempotency_key
        )
        return _http.parse_object(response)


class AsyncSocial(_AsyncResource):
    """Partners' end customers connect their own accounts (ACCOUNTS.md)."""

    async def create_oauth_url(
        self,
        project_id: str,
        *,
        platform: str,
        return_url: str,
        usage_note: str | None = None,
        scopes: Iterable[str] | None = None,
        idempotency_key: str | None = None,
    ) -> OAuthUrl:
        """The platform's consent page to send the user to; `state` identifies the attempt."""
        payload = _http.body(
            platform=platform,
            returnUrl=return_url,
            usageNote=usage_note,
            scopes=None if scopes is None else list(scopes),
        )
        response = await self._client.request(
            "POST",
            f"/v1/projects/{_segment(project_id)}/social/oauth-url",
            json=payload,
            idempotency_key=idempotency_key,
        )
        return _http.parse(response, OAuthUrl)

    async def get_oauth_status(self, state: str) -> OAuthStatus:
        response = await self._client.request("GET", f"/v1/social/oauth-status/{_segment(state)}")
        return _http.parse(response, OAuthStatus)

    async def create_reauth_url(
        self,
        project_id: str,
        *,
        social_account_id: str,
        return_url: str,
        scopes: Iterable[str] | None = None,
        idempotency_key: str | None = None,
    ) -> OAuthUrl:
        payload = _http.body(
            socialAccountId=social_account_id,
            returnUrl=return_url,
            scopes=None if scopes is None else list(scopes),
        )
        response = await self._client.request(
            "POST",
            f"/v1/projects/{_segment(project_id)}/social/reauth-url",
            json=payload,
            idempotency_key=idempotency_key,
        )
        return _http.parse(response, OAuthUrl)

    async def list_accounts_page(
        self, project_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[SocialAccount]:
        response = await self._client.request(
            "GET",
            f"/v1/projects/{_segment(project_id)}/social-accounts",
            params=_http.query(limit=limit, cursor=cursor),
        )
        return _http.parse(response, Page[SocialAccount])

    async def list_accounts(
        self, project_id: str, *, limit: int | None = None
    ) -> AsyncIterator[SocialAccount]:
        cursor: str | None = None
        while True:
            page = await self.list_accounts_page(project_id, limit=limit, cursor=cursor)
            for account in page.items:
                yield account
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def health(self, project_id: str, account_id: str) -> AccountHealth:
        response = await self._client.request(
            "GET", f"/v1/projects/{_segment(project_id)}/social-accounts/{_segment(account_id)}/health"
        )
        return _http.parse(response, AccountHealth)

    async def revoke(self, project_id: str, account_id: str) -> SocialAccount:
        """Revoke the token at the platform, mark the account revoked and cancel its pending posts."""
        response = await self._client.request(
            "DELETE", f"/v1/projects/{_segment(project_id)}/social-accounts/{_segment(account_id)}"
        )
        return _http.parse(response, SocialAccount)
