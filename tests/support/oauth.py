"""The connect flow for tests: a running sandbox with Crier's OAuth settings pointed at it, and a
partner whose key may connect accounts and send end customers back to app.example.com."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from crier.core.settings import get_settings
from crier.sandbox.wiring import platform_settings
from tests.support.factories import ADMIN_HEADERS, bearer, content_body
from tests.support.sandbox import running_sandbox

PUBLIC_URL = "https://crier.test"
RETURN_URL = "https://app.example.com/connected?tab=accounts"


@dataclass
class Partner:
    client: httpx.AsyncClient
    sandbox: str
    organization: dict[str, Any]
    project: dict[str, Any]
    key: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.key)

    async def oauth_url(
        self, platform: str = "tiktok", *, expect: int = 200, **fields: Any
    ) -> dict[str, Any]:
        body = {"platform": platform, "returnUrl": RETURN_URL, **fields}
        response = await self.client.post(
            f"/v1/projects/{self.project['id']}/social/oauth-url", json=body, headers=self.headers
        )
        assert response.status_code == expect, response.text
        return response.json()

    async def reauth_url(self, account_id: str, **fields: Any) -> dict[str, Any]:
        body = {"socialAccountId": account_id, "returnUrl": RETURN_URL, **fields}
        response = await self.client.post(
            f"/v1/projects/{self.project['id']}/social/reauth-url", json=body, headers=self.headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def sandbox_config(self, **config: Any) -> None:
        async with httpx.AsyncClient() as http:
            response = await http.post(f"{self.sandbox}/_sandbox/config", json=config)
        assert response.status_code == 200, response.text

    async def consent(self, authorize_url: str) -> str:
        """The end customer on the platform's consent page: where the platform sends the browser."""
        async with httpx.AsyncClient() as http:
            response = await http.get(authorize_url)
        assert response.status_code == 302, response.text
        return response.headers["location"]

    async def callback(self, location: str) -> httpx.Response:
        """The browser arriving at Crier's callback (Crier is served at PUBLIC_URL)."""
        assert location.startswith(PUBLIC_URL), location
        return await self.client.get(location.removeprefix(PUBLIC_URL))

    async def connect(self, platform: str = "tiktok", **fields: Any) -> tuple[dict[str, Any], httpx.Response]:
        """The whole flow: authorize URL, consent, callback. Answers the URL answer and the callback's."""
        url = await self.oauth_url(platform, **fields)
        return url, await self.callback(await self.consent(url["authorizeUrl"]))

    async def status(self, state: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/social/oauth-status/{state}", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def accounts(self, **params: Any) -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/projects/{self.project['id']}/social-accounts", params=params, headers=self.headers
        )
        assert response.status_code == 200, response.text
        return response.json()


def returned_to(response: httpx.Response) -> dict[str, str]:
    """The query Crier added to the partner's returnUrl (after checking it is that URL)."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith("https://app.example.com/connected?"), location
    return {key: values[-1] for key, values in parse_qs(urlsplit(location).query).items()}


async def make_partner(
    client: httpx.AsyncClient,
    sandbox: str,
    *,
    name: str = "Acme",
    scopes: tuple[str, ...] = ("social:write", "publish:write", "content:write"),
    hosts: tuple[str, ...] = ("app.example.com",),
) -> Partner:
    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await client.post(f"/admin/v1{path}", json=body, headers=ADMIN_HEADERS)
        assert response.status_code == 201, response.text
        return response.json()

    organization = await post("/organizations", {"name": name})
    project = await post(f"/organizations/{organization['id']}/projects", {"name": "Main"})
    key = await post(
        f"/organizations/{organization['id']}/api-keys",
        {"name": "partner", "scopes": list(scopes), "allowedReturnHosts": list(hosts)},
    )
    return Partner(client, sandbox, organization, project, key)


@pytest.fixture
async def sandbox(monkeypatch) -> AsyncIterator[str]:
    """A sandbox on loopback with every platform and OAuth setting of Crier pointed at it."""
    async with running_sandbox() as base:
        settings = get_settings()
        for name, value in {**platform_settings(base), "public_url": PUBLIC_URL}.items():
            monkeypatch.setattr(settings, name, value)
        yield base


@pytest.fixture
async def partner(client, sandbox) -> Partner:
    return await make_partner(client, sandbox)


async def publish_to(partner: Partner, account_id: str, caption: str) -> str:
    """Publish a fresh video container to one account now; answers the scheduled post id."""
    content = await partner.client.post(
        "/v1/content", json=content_body(partner.project["id"], caption=caption), headers=partner.headers
    )
    assert content.status_code == 201, content.text
    response = await partner.client.post(
        f"/v1/content/{content.json()['id']}/publish",
        json={"targets": [{"socialAccountId": account_id, "mode": "publish"}]},
        headers=partner.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["scheduledPostIds"][0]
