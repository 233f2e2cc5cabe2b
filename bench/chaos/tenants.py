"""Who the chaos publishes for: two organizations built through the operator API, and the posts it plans."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bench.harness import SANDBOX_MANAGED_SECRET, Stack
from crier.accounts.readiness import MANAGED_TEMPLATE_ID
from crier.tenancy.auth import SCOPES as CRIER_SCOPES

# The partner's key: content, publishing and account reads (webhook endpoints ride on publish:write).
SCOPES = [scope for scope in CRIER_SCOPES if scope.split(":")[0] in ("content", "publish", "accounts")]
MUSIC = [
    {
        "id": "trk_chaos_1",
        "title": "Loop One",
        "artist": "Sandbox",
        "link": "https://www.tiktok.com/music/loop-1",
    },
    {
        "id": "trk_chaos_2",
        "title": "Loop Two",
        "artist": "Sandbox",
        "link": "https://www.tiktok.com/music/loop-2",
    },
    {
        "id": "trk_chaos_3",
        "title": "Loop Three",
        "artist": "Sandbox",
        "link": "https://www.tiktok.com/music/loop-3",
    },
]


@dataclass
class Account:
    id: str
    platform: str
    org: str
    managed: bool


@dataclass
class Org:
    name: str
    id: str
    project_id: str
    headers: dict[str, str]
    accounts: list[Account]
    verified_phone: bool


@dataclass
class Planned:
    id: str
    org: str
    account: str
    platform: str
    mode: str
    endpoint: str
    media_type: str
    probe: bool = False


async def _admin(client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.request(method, f"/admin/v1{path}", json=body)
    if response.status_code not in (200, 201):
        raise RuntimeError(f"operator API {method} {path}: {response.status_code} {response.text}")
    return response.json()


async def build_tenants(stack: Stack) -> dict[str, Org]:
    """Two organizations through the operator API, as an operator would set them up."""
    headers = {"Authorization": f"Bearer {stack.admin_token}"}
    orgs: dict[str, Org] = {}
    async with httpx.AsyncClient(base_url=stack.api_url, headers=headers, timeout=30) as client:
        await _admin(client, "PUT", "/tiktok-music", {"items": MUSIC})
        for name, phone, tiktoks, instagrams, managed in (
            ("A", True, 3, 2, ("tiktok", "instagram")),
            ("B", False, 2, 1, ("tiktok",)),
        ):
            body: dict[str, Any] = {"name": f"Chaos {name}"}
            if phone:
                body |= {"primaryOperatorPhone": "+15555550100", "primaryOperatorPhoneVerified": True}
            org = await _admin(client, "POST", "/organizations", body)
            project = await _admin(
                client,
                "POST",
                f"/organizations/{org['id']}/projects",
                {"name": f"Chaos {name}", "requiresApproval": False},
            )
            key = await _admin(
                client, "POST", f"/organizations/{org['id']}/api-keys", {"name": "chaos", "scopes": SCOPES}
            )
            layer = await _admin(
                client,
                "POST",
                f"/projects/{project['id']}/layers",
                {
                    "templateId": MANAGED_TEMPLATE_ID,
                    "config": {
                        "provider": "sandbox",
                        "baseUrl": stack.managed_base_url,
                        "signingSecret": SANDBOX_MANAGED_SECRET,
                    },
                },
            )
            accounts: list[Account] = []
            path = f"/projects/{project['id']}/social-accounts"
            for i in range(tiktoks):
                made = await _admin(
                    client,
                    "POST",
                    path,
                    {
                        "platform": "tiktok",
                        "handle": f"chaos_{name.lower()}_tt{i}",
                        "externalAccountId": f"tt-chaos-{name}-{i}",
                        "accessToken": f"act.chaos-{name}-{i}",
                        "refreshToken": f"rft.chaos-{name}-{i}",
                        # video.list lets reconciliation ask TikTok what a lost init did
                        "grantedScopes": ["video.publish", "video.upload", "video.list"],
                    },
                )
                accounts.append(Account(made["id"], "tiktok", name, False))
            for i in range(instagrams):
                made = await _admin(
                    client,
                    "POST",
                    path,
                    {
                        "platform": "instagram",
                        "handle": f"chaos_{name.lower()}_ig{i}",
                        "externalAccountId": f"178414{ord(name):03d}{i:08d}",
                        "accessToken": f"IGQ-chaos-{name}-{i}",
                        "instagramAccountType": "business",
                    },
                )
                accounts.append(Account(made["id"], "instagram", name, False))
            for i, platform in enumerate(managed):
                body = {
                    "platform": platform,
                    "handle": f"chaos_{name.lower()}_managed{i}",
                    "externalAccountId": f"managed-chaos-{name}-{i}",
                    "accessToken": f"managed-{name}-{i}",
                    "layerId": layer["id"],
                }
                if platform == "instagram":
                    body["instagramAccountType"] = "business"
                made = await _admin(client, "POST", path, body)
                accounts.append(Account(made["id"], platform, name, True))
            orgs[name] = Org(
                name, org["id"], project["id"], {"Authorization": f"Bearer {key['key']}"}, accounts, phone
            )
    return orgs
