"""ACCOUNTS.md / issue 13: a real browser walks the connect flow on loopback, against a real running
API (uvicorn on a free port) and the sandbox: authorize URL → sandbox consent page → Crier's
callback → the partner's returnUrl, ending with a connected account that publishes.

Drives Debian's chromium (`apt-get install -y chromium`; .ci/run installs it) headless, letting it
follow the redirects and dump the page it ends on. Skips, saying why, when chromium is missing.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile

import pytest

from crier.core.settings import get_settings
from tests.security.support import delivering, sandbox_settings, settled
from tests.support.oauth import make_partner, publish_to
from tests.support.sandbox import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=10000",
]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install -y chromium); the browser walk needs it",
)


async def browse(url: str) -> str:
    """Open `url` in headless chromium, follow whatever it is sent to, and answer the final DOM."""
    with tempfile.TemporaryDirectory(prefix="crier-chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--dump-dom",
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(), timeout=90)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
    return out.decode()


async def test_a_browser_walks_the_connect_flow_to_a_connected_account_that_publishes(
    app, client, sandbox, monkeypatch, session
):
    async with serving(app) as api:
        monkeypatch.setattr(get_settings(), "public_url", api)
        partner = await make_partner(client, sandbox, hosts=("127.0.0.1",))
        url = await partner.oauth_url("tiktok", returnUrl=f"{sandbox}/_sandbox/partner/connected")

        page = await browse(url["authorizeUrl"])

    assert "Back at the partner's app" in page, page[:2000]
    assert f'id="layers_state">{url["state"]}<' in page and 'id="status">success<' in page
    status = await partner.status(url["state"])
    assert status["status"] == "completed"
    [account] = (await partner.accounts())["items"]
    assert account["id"] == status["socialAccountId"] and account["status"] == "connected"
    assert account["readiness"]["publish"] is True

    post_id = await publish_to(partner, account["id"], "from a browser connect")
    async with delivering(sandbox_settings(sandbox)):
        post = (await settled([post_id]))[post_id]
    assert post.status == "published", post.last_error
