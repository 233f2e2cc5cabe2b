"""Build tenants through the operator API, exactly as an operator would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from crier.accounts.readiness import MANAGED_TEMPLATE_ID
from crier.tenancy.auth import SCOPES

ADMIN_HEADERS = {"Authorization": "Bearer test-admin-token"}


@dataclass
class Tenant:
    client: httpx.AsyncClient
    organization: dict[str, Any]
    project: dict[str, Any]
    key: dict[str, Any]
    tiktok: dict[str, Any]
    instagram: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key['key']}"}

    async def content(
        self,
        *,
        media_type: str = "video",
        status: str = "completed",
        caption: str = "Hello",
        project_id: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create a content container through the public API."""
        body = content_body(
            project_id or self.project["id"], media_type=media_type, caption=caption, status=status, **fields
        )
        response = await self.client.post("/v1/content", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()


class Admin:
    """The operator API as a test helper."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def _post(self, path: str, body: dict[str, Any], method: str = "POST") -> dict[str, Any]:
        response = await self.client.request(method, f"/admin/v1{path}", json=body, headers=ADMIN_HEADERS)
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def organization(self, name: str = "Acme", **fields: Any) -> dict[str, Any]:
        return await self._post("/organizations", {"name": name, **fields})

    async def api_key(
        self, organization_id: str, scopes: list[str] | tuple[str, ...] = SCOPES
    ) -> dict[str, Any]:
        return await self._post(
            f"/organizations/{organization_id}/api-keys", {"name": "test", "scopes": list(scopes)}
        )

    async def project(self, organization_id: str, **fields: Any) -> dict[str, Any]:
        return await self._post(f"/organizations/{organization_id}/projects", {"name": "Main", **fields})

    async def managed_layer(
        self,
        project_id: str,
        base_url: str = "https://managed.example.com",
        secret: str = "sandbox-secret",
        provider: str = "acme",
    ) -> dict[str, Any]:
        config = {"provider": provider, "baseUrl": base_url, "signingSecret": secret}
        return await self._post(
            f"/projects/{project_id}/layers", {"templateId": MANAGED_TEMPLATE_ID, "config": config}
        )

    async def layer(
        self, project_id: str, template_id: str = "custom-template", config: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self._post(
            f"/projects/{project_id}/layers", {"templateId": template_id, "config": config or {}}
        )

    async def tiktok_account(self, project_id: str, **fields: Any) -> dict[str, Any]:
        body = {
            "platform": "tiktok",
            "handle": "creator",
            "externalAccountId": "tt-open-id-1",
            "accessToken": "act.tiktok-access",
            "refreshToken": "rft.tiktok-refresh",
            "grantedScopes": ["video.publish", "video.upload"],
            **fields,
        }
        return await self._post(f"/projects/{project_id}/social-accounts", body)

    async def instagram_account(self, project_id: str, **fields: Any) -> dict[str, Any]:
        body = {
            "platform": "instagram",
            "handle": "brand",
            "externalAccountId": "17841400000000001",
            "accessToken": "IGQ-instagram-access",
            "instagramAccountType": "business",
            **fields,
        }
        return await self._post(f"/projects/{project_id}/social-accounts", body)

    async def disconnect(self, account_id: str) -> dict[str, Any]:
        return await self._post(f"/social-accounts/{account_id}", {}, method="DELETE")

    async def music(self, items: list[dict[str, str]]) -> dict[str, Any]:
        return await self._post("/tiktok-music", {"items": items}, method="PUT")

    async def tenant(self, *, scopes: list[str] | tuple[str, ...] = SCOPES, **project_fields: Any) -> Tenant:
        organization = await self.organization(
            primaryOperatorPhone="+15555550100", primaryOperatorPhoneVerified=True
        )
        project = await self.project(organization["id"], **project_fields)
        key = await self.api_key(organization["id"], scopes)
        tiktok = await self.tiktok_account(project["id"])
        instagram = await self.instagram_account(project["id"])
        return Tenant(self.client, organization, project, key, tiktok, instagram)


def bearer(key: dict[str, Any]) -> dict[str, str]:
    """Headers that present an API key (as answered by `Admin.api_key`)."""
    return {"Authorization": f"Bearer {key['key']}"}


def media_items(count: int, extension: str = "jpg") -> list[dict[str, str]]:
    return [{"url": f"https://cdn.example.com/m/{i}.{extension}"} for i in range(count)]


def content_body(
    project_id: str, *, media_type: str = "video", count: int | None = None, **fields: Any
) -> dict[str, Any]:
    """A valid `POST /v1/content` body; `count` and `fields` bend it for the case under test."""
    count = {"image": 1, "video": 1, "multi": 3}[media_type] if count is None else count
    extension = "mp4" if media_type == "video" else "jpg"
    return {
        "projectId": project_id,
        "mediaType": media_type,
        "media": media_items(count, extension),
        "caption": "Hello",
        **fields,
    }


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The error of an envelope answer, after checking its status, code, shape and request id."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "requestId", "details"}, error
    assert error["code"] == code, error
    assert error["requestId"] == response.headers["x-request-id"]
    return error
