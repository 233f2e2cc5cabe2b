"""SSRF guards end to end (CONTRACT §8): media URLs at intake; managed provider URLs at intake and per call.

Intake never resolves a name, but refuses every spelling of a private address a resolver or a URL
parser would accept. Where Crier itself fetches (the managed provider), the resolved address is
checked on every call, unless the operator allow-lists the host.
"""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import func, select

from crier.accounts.readiness import MANAGED_TEMPLATE_ID
from crier.core.settings import get_settings
from crier.models import ContentContainer, Layer
from tests.security.support import delivering, running_sandbox, sandbox_records, sandbox_settings, settled
from tests.support.factories import ADMIN_HEADERS, content_body, error_of

PRIVATE = "must not point at a private, loopback or link-local address"
HOSTILE = [
    ("http://cdn.example.com/m/1.mp4", "must use https"),
    ("https://localhost/m/1.mp4", "must not point at localhost"),
    ("https://media.localhost/m/1.mp4", "must not point at localhost"),
    ("https://127.0.0.1/m/1.mp4", PRIVATE),
    ("https://10.0.0.1/m/1.mp4", PRIVATE),
    ("https://192.168.0.10/m/1.mp4", PRIVATE),
    ("https://169.254.169.254/latest/meta-data/", PRIVATE),  # cloud metadata
    ("https://100.64.0.1/m/1.mp4", PRIVATE),  # carrier-grade NAT, often internal
    ("https://0.0.0.0/m/1.mp4", PRIVATE),
    ("https://[::1]/m/1.mp4", PRIVATE),
    ("https://[fe80::1%25eth0]/m/1.mp4", PRIVATE),
    ("https://[::ffff:127.0.0.1]/m/1.mp4", PRIVATE),  # IPv4-mapped IPv6
    ("https://[::ffff:a9fe:a9fe]/m/1.mp4", PRIVATE),  # ... spelled in hex
    ("https://[2002:7f00:1::]/m/1.mp4", PRIVATE),  # 6to4 around 127.0.0.1
    ("https://2130706433/m/1.mp4", PRIVATE),  # 127.0.0.1 as one decimal number
    ("https://0x7f.0.0.1/m/1.mp4", PRIVATE),  # ... with a hex octet
    ("https://0x7f000001/m/1.mp4", PRIVATE),  # ... as one hex number
    ("https://0177.0.0.1/m/1.mp4", PRIVATE),  # ... with an octal octet
    ("https://127.1/m/1.mp4", PRIVATE),  # ... shortened
    ("https://%31%32%37.0.0.1/m/1.mp4", "has an invalid host"),  # percent-encoded host
    ("https://999.0.0.1/m/1.mp4", "has an invalid host"),  # a numeric host that is no address
    ("https://user:secret@cdn.example.com/m/1.mp4", "must not carry credentials"),
    ("https://cdn.example.com:99999/m/1.mp4", "is not a valid URL"),
    # Unicode spellings that IDNA/NFKC fold into the above, as the platform's fetcher would.
    ("https://１２７.０.０.１/m/1.mp4", PRIVATE),
    ("https://０ｘ７ｆ０００００１/m/1.mp4", PRIVATE),
    ("https://ｌｏｃａｌｈｏｓｔ/m/1.mp4", "must not point at localhost"),
    ("https://ⅼocalhost/m/1.mp4", "must not point at localhost"),
    # IPv6 forms that carry 127.0.0.1: IPv4-compatible, SIIT, NAT64.
    ("https://[::127.0.0.1]/m/1.mp4", PRIVATE),
    ("https://[::ffff:0:127.0.0.1]/m/1.mp4", PRIVATE),
    ("https://[64:ff9b::7f00:1]/m/1.mp4", PRIVATE),
]


async def _count(session, model) -> int:
    return await session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(("url", "problem"), HOSTILE)
async def test_media_intake_refuses_every_spelling_of_a_private_address(
    client, tenant, session, url, problem
):
    body = content_body(tenant.project["id"], media=[{"url": url}])

    response = await client.post("/v1/content", json=body, headers=tenant.headers)

    error = error_of(response, 422, "VALIDATION")
    assert error["details"]["errors"] == [{"path": "body.media.0.url", "message": f"media URL {problem}"}]
    assert await _count(session, ContentContainer) == 0


async def test_patching_media_is_guarded_too(client, tenant):
    content = await tenant.content()

    response = await client.patch(
        f"/v1/content/{content['id']}",
        headers=tenant.headers,
        json={"media": [{"url": "https://0x7f.0.0.1/m/1.mp4"}]},
    )

    assert error_of(response, 422, "VALIDATION")["details"]["errors"][0]["path"] == "body.media.0.url"


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/m/1.mp4",
        "https://8.8.8.8/m/1.mp4",
        "https://[2606:4700::1111]/m/1.mp4",
        "https://my_cdn.example.com/m/1.mp4",
    ],
)
async def test_public_media_urls_are_accepted_without_being_resolved(client, tenant, url):
    response = await client.post(
        "/v1/content", json=content_body(tenant.project["id"], media=[{"url": url}]), headers=tenant.headers
    )

    assert response.status_code == 201, response.text


def _layer(base_url: str, secret: str = "provider-secret") -> dict:
    return {
        "templateId": MANAGED_TEMPLATE_ID,
        "config": {"provider": "acme", "baseUrl": base_url, "signingSecret": secret},
    }


@pytest.mark.parametrize(("url", "problem"), HOSTILE)
async def test_a_managed_provider_url_is_guarded_when_the_operator_sets_it(
    client, tenant, session, url, problem
):
    response = await client.post(
        f"/admin/v1/projects/{tenant.project['id']}/layers", json=_layer(url), headers=ADMIN_HEADERS
    )

    error = error_of(response, 422, "VALIDATION")
    assert error["details"]["errors"] == [{"path": "body.config.baseUrl", "message": f"baseUrl {problem}"}]
    assert await _count(session, Layer) == 0


async def test_an_allow_listed_host_may_be_loopback_and_plain_http(client, tenant, monkeypatch):
    monkeypatch.setattr(get_settings(), "url_allowlist", ["127.0.0.1"])

    response = await client.post(
        f"/admin/v1/projects/{tenant.project['id']}/layers",
        json=_layer("http://127.0.0.1:8099/managed"),
        headers=ADMIN_HEADERS,
    )

    assert response.status_code == 201, response.text
    assert response.json()["config"]["baseUrl"] == "http://127.0.0.1:8099/managed"


PROVIDER_HOST = "provider.crier-test.example"


@pytest.fixture
def provider_resolves_to_loopback(monkeypatch):
    """DNS that answers 127.0.0.1 for the provider's name (a rebinding or internal-name attack)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in (PROVIDER_HOST, PROVIDER_HOST.encode()):  # httpx asks with the IDNA bytes
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port or 443)))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


async def _publish_managed(client, admin, tenant, base_url: str) -> str:
    """A managed account whose layer's provider is `base_url`, and one post published to it."""
    layer = await admin._post(f"/projects/{tenant.project['id']}/layers", _layer(base_url, "sandbox-secret"))
    account = await admin.tiktok_account(
        tenant.project["id"], handle="managed", externalAccountId="tt-managed", layerId=layer["id"]
    )
    content = await tenant.content(caption="via the provider")
    response = await client.post(
        f"/v1/content/{content['id']}/publish",
        headers=tenant.headers,
        json={"targets": [{"socialAccountId": account["id"], "mode": "managed"}]},
    )
    assert response.status_code == 200, response.text
    return response.json()["scheduledPostIds"][0]


async def test_a_provider_name_resolving_to_a_private_address_is_refused_at_call_time(
    client, admin, tenant, provider_resolves_to_loopback
):
    async with running_sandbox() as sandbox:
        # A name is not resolved when the operator saves it: only the call finds where it points.
        post_id = await _publish_managed(client, admin, tenant, f"https://{PROVIDER_HOST}/managed")
        async with delivering(sandbox_settings(sandbox)):
            post = (await settled([post_id]))[post_id]
        seen = await sandbox_records(sandbox)

    assert post.status == "failed"
    assert post.last_error["code"] == "MANAGED_PROVIDER_URL_REFUSED"
    assert "resolves to a private, loopback or link-local address" in post.last_error["message"]
    assert seen["managed"]["requests"] == 0  # nothing was sent


async def test_an_allow_listed_provider_name_is_called_even_when_it_resolves_privately(
    client, admin, tenant, provider_resolves_to_loopback, monkeypatch
):
    monkeypatch.setattr(get_settings(), "url_allowlist", [PROVIDER_HOST])
    async with running_sandbox() as sandbox:
        port = sandbox.rsplit(":", 1)[1]
        post_id = await _publish_managed(client, admin, tenant, f"http://{PROVIDER_HOST}:{port}/managed")
        async with delivering(sandbox_settings(sandbox, url_allowlist=[PROVIDER_HOST])):
            post = (await settled([post_id]))[post_id]
        seen = await sandbox_records(sandbox)

    assert post.status == "published", post.last_error
    assert seen["createdPerCaption"]["managed"] == {"via the provider": 1}
