"""Secrets never leave Crier: not in any log line, not in any HTTP answer (README: Operations, Logs).

One full flow runs with every logger at DEBUG (SQL statements and their parameters included) and
Crier's own JSON formatter, so `extra` fields are searched too: an operator connects accounts with
known tokens and a managed layer with a known signing secret, a partner publishes to TikTok (whose
access token has expired, so the worker refreshes it and TikTok rotates both tokens), to Instagram
(a post and an SMS draft through Twilio) and through the managed provider, and reads everything
back. Then no secret (old or rotated) may appear anywhere but where it must: the API key in the
one answer that mints it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from crier.accounts.readiness import MANAGED_TEMPLATE_ID
from crier.core import crypto
from crier.core.logging import JsonFormatter
from crier.core.settings import get_settings
from crier.models import Layer, SocialAccount
from tests.security.support import delivering, running_sandbox, sandbox_records, sandbox_settings, settled
from tests.support.factories import ADMIN_HEADERS, content_body


def _secret(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(12)}"


TIKTOK_ACCESS, TIKTOK_REFRESH = _secret("act.tt-"), _secret("rft.tt-")
INSTAGRAM_ACCESS, MANAGED_ACCESS = _secret("IGQ-"), _secret("act.managed-")
SIGNING_SECRET = _secret("whsec-")
TWILIO_AUTH_TOKEN, TIKTOK_CLIENT_SECRET = _secret("twilio-"), _secret("tt-client-")
ADMIN_TOKEN = "test-admin-token"  # tests/conftest.py


class Capture(logging.Handler):
    """Every record, formatted as production writes it (one JSON object, `extra` fields included)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


# What CRIER_LOG_LEVEL=DEBUG sets (configure_logging keeps httpx at WARNING: it logs URLs, and
# Instagram's token refresh must carry the token in its URL), plus SQL statements with their
# parameters and result rows, which an operator debugging the database might switch on.
LEVELS = {
    "": logging.DEBUG,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "sqlalchemy.engine": logging.DEBUG,
}


@pytest.fixture
def captured_logs() -> Iterator[Capture]:
    capture, saved = Capture(), {name: logging.getLogger(name).level for name in LEVELS}
    for name, level in LEVELS.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger().addHandler(capture)
    try:
        yield capture
    finally:
        logging.getLogger().removeHandler(capture)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


class Recorder:
    """The flow's HTTP calls, with every answer kept for the search."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.answers: list[tuple[str, httpx.Response]] = []

    async def __call__(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        expect: int = 200,
        headers: dict[str, str] | None = None,
        **options,
    ) -> dict:
        auth = {"Authorization": f"Bearer {key}"} if key else ADMIN_HEADERS
        response = await self.client.request(method, path, headers={**auth, **(headers or {})}, **options)
        assert response.status_code == expect, response.text
        self.answers.append((f"{method} {path}", response))
        return response.json()


async def test_no_secret_reaches_a_log_line_or_an_answer(client, session, captured_logs, monkeypatch):
    call = Recorder(client)
    async with running_sandbox(managed_secret=SIGNING_SECRET) as sandbox:
        monkeypatch.setattr(get_settings(), "url_allowlist", ["127.0.0.1"])  # the provider is the sandbox

        # The operator sets up a tenant with known secrets.
        organization = await call(
            "POST",
            "/admin/v1/organizations",
            expect=201,
            json={
                "name": "Acme",
                "primaryOperatorPhone": "+15555550100",
                "primaryOperatorPhoneVerified": True,
            },
        )
        minted = await call(
            "POST",
            f"/admin/v1/organizations/{organization['id']}/api-keys",
            expect=201,
            json={"name": "partner", "scopes": ["content:write", "publish:write", "accounts:read"]},
        )
        api_key = minted["key"]
        project = await call(
            "POST",
            f"/admin/v1/organizations/{organization['id']}/projects",
            expect=201,
            json={"name": "Main"},
        )
        accounts = f"/admin/v1/projects/{project['id']}/social-accounts"
        layer = await call(
            "POST",
            f"/admin/v1/projects/{project['id']}/layers",
            expect=201,
            json={
                "templateId": MANAGED_TEMPLATE_ID,
                "config": {
                    "provider": "sandbox",
                    "baseUrl": f"{sandbox}/managed",
                    "signingSecret": SIGNING_SECRET,
                },
            },
        )
        expired = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        tiktok = await call(
            "POST",
            accounts,
            expect=201,
            json={
                "platform": "tiktok",
                "handle": "creator",
                "externalAccountId": "tt-creator",
                "accessToken": TIKTOK_ACCESS,
                "refreshToken": TIKTOK_REFRESH,
                "tokenExpiresAt": expired,
                "grantedScopes": ["video.publish", "video.upload"],
            },
        )
        instagram = await call(
            "POST",
            accounts,
            expect=201,
            json={
                "platform": "instagram",
                "handle": "brand",
                "externalAccountId": "17841400000000001",
                "accessToken": INSTAGRAM_ACCESS,
                "instagramAccountType": "business",
            },
        )
        managed = await call(
            "POST",
            accounts,
            expect=201,
            json={
                "platform": "tiktok",
                "handle": "managed",
                "externalAccountId": "tt-managed",
                "accessToken": MANAGED_ACCESS,
                "grantedScopes": ["video.publish"],
                "layerId": layer["id"],
            },
        )

        # The partner publishes everywhere; one TikTok call fails once, so a retry is logged too.
        async with httpx.AsyncClient() as http:
            await http.post(
                f"{sandbox}/_sandbox/faults",
                json={
                    "calls": [{"endpoint": "tiktok.creator_info", "status": 500, "error": "internal_error"}]
                },
            )
        video = await call(
            "POST", "/v1/content", key=api_key, expect=201, json=content_body(project["id"], caption="video")
        )
        image = await call(
            "POST",
            "/v1/content",
            key=api_key,
            expect=201,
            json=content_body(project["id"], media_type="image", caption="image"),
        )
        targets = {
            video["id"]: [
                {"socialAccountId": tiktok["id"], "mode": "publish"},
                {"socialAccountId": managed["id"], "mode": "managed"},
            ],
            image["id"]: [
                {"socialAccountId": instagram["id"], "mode": "publish"},
                {"socialAccountId": instagram["id"], "mode": "draft"},
            ],
        }
        post_ids = []
        for container_id, container_targets in targets.items():
            answer = await call(
                "POST",
                f"/v1/content/{container_id}/publish",
                key=api_key,
                json={"targets": container_targets},
                headers={"Idempotency-Key": container_id},
            )
            post_ids += answer["scheduledPostIds"]

        settings = sandbox_settings(
            sandbox,
            twilio_auth_token=SecretStr(TWILIO_AUTH_TOKEN),
            tiktok_client_secret=SecretStr(TIKTOK_CLIENT_SECRET),
        )
        async with delivering(settings):
            posts = await settled(post_ids)
        seen = await sandbox_records(sandbox)

        # ... and reads everything back.
        for post_id in post_ids:
            await call("GET", f"/v1/scheduled-posts/{post_id}", key=api_key)
        await call("GET", f"/v1/projects/{project['id']}/scheduled-posts", key=api_key)
        await call("GET", f"/v1/social-accounts?projectId={project['id']}", key=api_key)
        await call("GET", "/admin/v1/organizations")
        await call("DELETE", f"/admin/v1/social-accounts/{tiktok['id']}")

    # The flow happened as described: every post landed, TikTok rotated both tokens, all is encrypted.
    statuses = sorted(post.status for post in posts.values())
    assert statuses == ["draft", "published", "published", "published"], {
        post.id: post.last_error for post in posts.values()
    }
    assert seen["tiktok"]["refreshes"] == 1 and seen["twilio"]["messages"]
    stored = await session.get(SocialAccount, tiktok["id"])
    rotated_access = crypto.decrypt(stored.access_token_encrypted)
    rotated_refresh = crypto.decrypt(stored.refresh_token_encrypted)
    assert rotated_access != TIKTOK_ACCESS and rotated_refresh != TIKTOK_REFRESH
    layer_row = await session.get(Layer, layer["id"])
    assert crypto.decrypt(layer_row.signing_secret_encrypted) == SIGNING_SECRET
    for ciphertext in (
        stored.access_token_encrypted,
        stored.refresh_token_encrypted,
        layer_row.signing_secret_encrypted,
    ):
        assert rotated_access not in ciphertext and SIGNING_SECRET not in ciphertext

    forbidden = {
        "API key": api_key,
        "admin token": ADMIN_TOKEN,
        "TikTok access token": TIKTOK_ACCESS,
        "TikTok refresh token": TIKTOK_REFRESH,
        "rotated TikTok access token": rotated_access,
        "rotated TikTok refresh token": rotated_refresh,
        "Instagram access token": INSTAGRAM_ACCESS,
        "managed account token": MANAGED_ACCESS,
        "signing secret": SIGNING_SECRET,
        "Twilio auth token": TWILIO_AUTH_TOKEN,
        "TikTok client secret": TIKTOK_CLIENT_SECRET,
    }
    assert len(captured_logs.lines) > 100  # the flow was logged, SQL included
    assert any('"account.tokens_refreshed"' in line for line in captured_logs.lines)
    for line in captured_logs.lines:
        leaked = [name for name, value in forbidden.items() if value in line]
        assert not leaked, f"{leaked} in the log line {line[:2000]}"
    for label, response in call.answers:
        headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
        visible = f"{response.text}\n{headers}"
        allowed = {"API key"} if response is call.answers[1][1] else set()  # minted: shown exactly once
        leaked = [name for name, value in forbidden.items() if value in visible and name not in allowed]
        assert not leaked, f"{leaked} in the answer to {label}"
    assert api_key in call.answers[1][1].text
