"""The OAuth clients when a platform does not answer: `platform_unavailable`, never a URL or token."""

from __future__ import annotations

import httpx
import pytest
import respx

from crier.platforms.oauth import OAuthFailed
from crier.platforms.oauth import instagram as instagram_oauth
from crier.platforms.oauth import tiktok as tiktok_oauth
from tests.platforms.support import IG_REFRESH_BASE, TIKTOK_BASE, settings

pytestmark = pytest.mark.asyncio

IG_OAUTH_BASE = "https://igoauth.test"


async def test_tiktok_code_exchange_that_cannot_connect_is_platform_unavailable():
    with respx.mock(base_url=TIKTOK_BASE) as mock:
        mock.post("/v2/oauth/token/").mock(side_effect=httpx.ConnectError("tiktok.test refused"))
        async with httpx.AsyncClient() as http:
            with pytest.raises(OAuthFailed) as failed:
                await tiktok_oauth.exchange(
                    http, settings(), code="c", redirect_uri="https://r", code_verifier="v"
                )
    assert failed.value.code == "platform_unavailable"
    assert failed.value.message == "TikTok's token endpoint did not answer (ConnectError)."


async def test_tiktok_profile_read_that_times_out_is_platform_unavailable():
    with respx.mock(base_url=TIKTOK_BASE) as mock:
        mock.post("/v2/oauth/token/").mock(
            return_value=httpx.Response(
                200, json={"access_token": "at", "open_id": "o1", "expires_in": 86400}
            )
        )
        mock.get("/v2/user/info/").mock(side_effect=httpx.ReadTimeout("slow"))
        async with httpx.AsyncClient() as http:
            with pytest.raises(OAuthFailed) as failed:
                await tiktok_oauth.exchange(
                    http, settings(), code="c", redirect_uri="https://r", code_verifier="v"
                )
    assert failed.value.code == "platform_unavailable"
    assert failed.value.message == "TikTok's profile endpoint did not answer (ReadTimeout)."


async def test_instagram_long_lived_swap_that_cannot_connect_names_no_token():
    config = settings(instagram_oauth_base=IG_OAUTH_BASE)
    with respx.mock() as mock:
        mock.post(f"{IG_OAUTH_BASE}/oauth/access_token").mock(
            return_value=httpx.Response(200, json={"access_token": "short-secret", "user_id": "1"})
        )
        mock.get(f"{IG_REFRESH_BASE}/access_token").mock(
            side_effect=httpx.ConnectError("access_token=short-secret")
        )
        async with httpx.AsyncClient() as http:
            with pytest.raises(OAuthFailed) as failed:
                await instagram_oauth.exchange(http, config, code="c", redirect_uri="https://r")
    assert failed.value.code == "platform_unavailable"
    assert failed.value.message == "Instagram did not answer the long-lived token swap (ConnectError)."
    assert "short-secret" not in str(failed.value)
