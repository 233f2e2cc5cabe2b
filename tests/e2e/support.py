"""The end-to-end vocabulary: the partner's API calls, the sandbox's ears, and the wire-state checks."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import httpx

from crier.sandbox.wiring import TWILIO_FROM  # noqa: F401  (the worker's Twilio sender)
from tests.support.factories import Tenant

TERMINAL = {"published", "draft", "failed", "canceled"}
MANAGED_SECRET = "sandbox-secret"  # the sandbox provider's default X-Crier-Signature secret
WIRE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
PLATFORM_FAMILIES = ("tiktok", "instagram", "twilio", "managed")
# Fields only TikTok's API knows: none may reach the Graph API or an SMS.
TIKTOK_ONLY_FIELDS = {
    "privacy_level",
    "disable_comment",
    "disable_duet",
    "disable_stitch",
    "auto_add_music",
    "brand_content_toggle",
    "brand_organic_toggle",
    "post_info",
    "post_mode",
    "tiktokPostSettings",
    "tiktokMusic",
    "privacyLevel",
}


# --------------------------------------------------------------------------------------------------
# The sandbox and what it heard


@dataclass
class Heard:
    """One request as the sandbox received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def fields(self) -> dict[str, list[str]]:
        """Query and urlencoded body fields together (Graph takes either), repeated keys kept in order."""
        fields = {key: list(values) for key, values in self.query.items()}
        if self.body and not self.headers.get("content-type", "").startswith("application/json"):
            for key, values in parse_qs(self.body.decode(), keep_blank_values=True).items():
                fields.setdefault(key, []).extend(values)
        return fields

    @property
    def form(self) -> dict[str, str]:
        """`fields` with one value per key (for forms that repeat nothing)."""
        return {key: values[-1] for key, values in self.fields.items()}

    def json(self) -> Any:
        return json.loads(self.body)


class WireTap:
    """ASGI middleware: records every platform request (not the /_sandbox control calls), then serves it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.heard: list[Heard] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        self.heard.append(
            Heard(
                method=scope["method"],
                path=scope["path"],
                query=parse_qs(scope["query_string"].decode(), keep_blank_values=True),
                headers={key.decode().lower(): value.decode() for key, value in scope["headers"]},
                body=body,
            )
        )
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


@dataclass
class Sandbox:
    url: str
    tap: WireTap

    async def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with httpx.AsyncClient(base_url=self.url) as client:
            response = await client.request(method, f"/_sandbox/{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    async def records(self) -> dict[str, Any]:
        """GET /_sandbox/records: what each fake created, per-caption counts, calls per endpoint."""
        return await self._control("GET", "records")

    async def faults(self, **script: Any) -> None:
        """POST /_sandbox/faults (fields as in crier.sandbox.faults)."""
        await self._control("POST", "faults", script)

    async def config(self, **changes: Any) -> None:
        """POST /_sandbox/config (camelCase keys, until the next reset)."""
        await self._control("POST", "config", changes)

    async def reset(self) -> None:
        """Forget records, faults and the wire tap."""
        await self._control("POST", "reset")
        self.tap.heard.clear()

    def heard(self, method: str, path_suffix: str) -> list[Heard]:
        """The requests received on paths ending with `path_suffix`, in arrival order."""
        return [h for h in self.tap.heard if h.method == method and h.path.endswith(path_suffix)]

    def heard_by(self, family: str) -> list[Heard]:
        """The requests one fake (tiktok, instagram, twilio, managed) received."""
        return [h for h in self.tap.heard if h.path.split("/")[1] == family]


def created_only(platform: str, caption: str) -> dict[str, dict[str, int]]:
    """`createdPerCaption` when exactly one thing was created, on `platform`, for `caption`."""
    created: dict[str, dict[str, int]] = {family: {} for family in PLATFORM_FAMILIES}
    created[platform] = {caption: 1}
    return created


def signed(secret: str, header: str, body: bytes) -> bool:
    """Whether `X-Crier-Signature: t=<unix>,v1=<hex>` is hmac-sha256(secret, "<t>.<body>") (PLATFORMS §4)."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return abs(time.time() - int(parts["t"])) < 60 and hmac.compare_digest(expected, parts["v1"])


# --------------------------------------------------------------------------------------------------
# The partner's side: the public /v1 API


def target(account: dict[str, Any], mode: str, **fields: Any) -> dict[str, Any]:
    """A publish/schedule target for `account`; `fields` in the wire's camelCase."""
    return {"socialAccountId": account["id"], "mode": mode, **fields}


def wire_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(value: str) -> datetime:
    assert WIRE_TIME.fullmatch(value), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class Partner:
    """A partner app calling Crier's /v1 API with its organization's key."""

    client: httpx.AsyncClient
    tenant: Tenant

    @property
    def tiktok(self) -> dict[str, Any]:
        return self.tenant.tiktok

    @property
    def instagram(self) -> dict[str, Any]:
        return self.tenant.instagram

    async def content(self, media_type: str, **fields: Any) -> dict[str, Any]:
        """POST /v1/content: a completed container (image: 1 jpg, video: 1 mp4, multi: 3 jpg)."""
        return await self.tenant.content(media_type=media_type, **fields)

    async def publish(self, content: dict[str, Any], *targets: dict[str, Any]) -> list[str]:
        """POST /v1/content/{id}/publish → the scheduled post ids, in target order."""
        response = await self.client.post(
            f"/v1/content/{content['id']}/publish",
            headers=self.tenant.headers,
            json={"targets": list(targets)},
        )
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"scheduledPostIds"}
        ids = response.json()["scheduledPostIds"]
        assert len(ids) == len(targets)
        return ids

    async def schedule(self, content: dict[str, Any], *targets: dict[str, Any], at: datetime) -> list[str]:
        """POST /v1/content/{id}/schedule (no approval needed: queued) → the scheduled post ids."""
        body = {"targets": list(targets), "scheduledFor": wire_time(at)}
        response = await self.client.post(
            f"/v1/content/{content['id']}/schedule", headers=self.tenant.headers, json=body
        )
        assert response.status_code == 200, response.text
        assert response.json()["gateStatus"] == "queued", response.json()
        return response.json()["scheduledPostIds"]

    async def post(self, post_id: str) -> dict[str, Any]:
        """GET /v1/scheduled-posts/{id}."""
        response = await self.client.get(f"/v1/scheduled-posts/{post_id}", headers=self.tenant.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def cancel(self, post_id: str) -> httpx.Response:
        """DELETE /v1/scheduled-posts/{id}."""
        return await self.client.delete(f"/v1/scheduled-posts/{post_id}", headers=self.tenant.headers)

    async def settled(self, post_id: str, *, within: float = 10.0) -> dict[str, Any]:
        """The post once it reached a terminal state, polled as a partner would."""
        deadline = time.monotonic() + within
        while True:
            post = await self.post(post_id)
            if post["status"] in TERMINAL:
                return post
            if time.monotonic() > deadline:
                raise AssertionError(f"{post_id} still {post['status']!r} after {within}s: {post}")
            await asyncio.sleep(0.05)

    async def history(self, **params: Any) -> list[dict[str, Any]]:
        """GET /v1/projects/{id}/scheduled-posts with filters → the first page's items."""
        response = await self.client.get(
            f"/v1/projects/{self.tenant.project['id']}/scheduled-posts",
            headers=self.tenant.headers,
            params=params,
        )
        assert response.status_code == 200, response.text
        return response.json()["items"]


# --------------------------------------------------------------------------------------------------
# The post's final wire state (CONTRACT §7)


def _stamps(post: dict[str, Any]) -> tuple[datetime, datetime]:
    assert post["attemptedAt"] is not None, post
    created, attempted = parse_time(post["createdAt"]), parse_time(post["attemptedAt"])
    assert created <= attempted, post
    assert post["canceledAt"] is None, post
    return created, attempted


def assert_published(post: dict[str, Any], *, external_id: str, external_url: str | None) -> None:
    """`published`: the platform's id and URL, attemptedAt ≤ publishedAt, no lastError."""
    assert post["status"] == "published", post
    assert post["lastError"] is None, post
    assert post["externalId"] == external_id, post
    assert post["externalUrl"] == external_url, post
    _, attempted = _stamps(post)
    assert post["publishedAt"] is not None and attempted <= parse_time(post["publishedAt"]), post


def assert_draft(post: dict[str, Any], *, external_id: str) -> None:
    """`draft`: handed to the device (the platform's handle kept), never published, no lastError."""
    assert post["status"] == "draft", post
    assert post["lastError"] is None, post
    assert post["externalId"] == external_id, post
    assert post["externalUrl"] is None and post["publishedAt"] is None, post
    _stamps(post)


def assert_failed(post: dict[str, Any], *, code: str, platform: str, message: str | None = None) -> None:
    """`failed`: lastError {code, message, platform}, nothing published."""
    assert post["status"] == "failed", post
    error = post["lastError"]
    assert error is not None and set(error) == {"code", "message", "platform"}, post
    assert error["code"] == code and error["platform"] == platform, error
    assert error["message"], error
    if message is not None:
        assert error["message"] == message, error
    assert post["publishedAt"] is None and post["externalUrl"] is None, post
    _stamps(post)
