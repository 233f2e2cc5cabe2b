"""/docs and /redoc need nothing from the internet: their assets come from the installed package, and a
headless Chromium that cannot resolve any host but 127.0.0.1 renders every operation on both pages."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
LOCAL_ASSET = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_page_loads_only_assets_the_app_serves(client, page):
    response = await client.get(page)
    assets = LOCAL_ASSET.findall(response.text)

    assert response.status_code == 200 and assets
    assert not re.search(r"https?://", response.text), "the page must not reference another host"
    for asset in assets:
        assert asset.startswith("/docs/assets/"), asset
        served = await client.get(asset)
        assert served.status_code == 200 and len(served.content) > 1000, asset


async def test_an_unknown_asset_is_a_404_in_the_envelope(client):
    response = await client.get("/docs/assets/nope.js")

    assert response.status_code == 404


async def render(url: str) -> str:
    """The page's DOM after its scripts ran, from a headless Chromium with every other host unresolvable."""
    browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if browser is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install -y chromium; .ci/run installs it)")
    with tempfile.TemporaryDirectory(prefix="crier-chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=20000",
            "--dump-dom",
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
    assert process.returncode == 0, stderr.decode(errors="replace")[-2000:]
    return stdout.decode()


async def test_swagger_ui_renders_every_operation_offline(crier_url, client):
    document = (await client.get("/openapi.json")).json()
    operation_ids = {
        operation["operationId"] for item in document["paths"].values() for operation in item.values()
    }

    dom = await render(f"{crier_url}/docs")

    rendered = set(re.findall(r'id="operations-(?!tag-)[^"]*?-([A-Za-z0-9]+)"', dom))
    assert rendered == operation_ids
    assert "/v1/content/{container_id}/publish" in dom


async def test_redoc_renders_every_operation_offline(crier_url, client):
    document = (await client.get("/openapi.json")).json()
    operation_ids = {
        operation["operationId"] for item in document["paths"].values() for operation in item.values()
    }

    dom = await render(f"{crier_url}/redoc")

    rendered = set(re.findall(r'id="tag/[^"/]+/operation/([A-Za-z0-9]+)"', dom))
    assert rendered == operation_ids
    assert "Publish a container now" in dom
