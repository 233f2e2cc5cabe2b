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


@pytest.mark.parametrize(
    ("failing", "error", "message"),
    [
        (
            "/v2/oauth/token/",
            httpx.ConnectError("refused"),
            "TikTok's token endpoint did not answer (ConnectError).",
        ),
        (
            "/v2/user/info/",
            httpx.ReadTimeout("slow"),
            "TikTok's profile endpoint did not answer (ReadTimeout).",
        ),
    ],
    ids=["code-exchange", "profile"],
)
async def test_tiktok_call_that_does_not_answer_is_platform_unavailable(failing, error, message):
    with respx.mock(base_url=TIKTOK_BASE, assert_all_called=False) as mock:
        mock.route(path=failing).mock(side_effect=error)  # first: respx answers with the first match
        token = {"access_token": "at", "open_id": "o1", "expires_in": 86400}
        mock.post("/v2/oauth/token/").mock(return_value=httpx.Response(200, json=token))
        async with httpx.AsyncClient() as http:
            with pytest.raises(OAuthFailed) as failed:
                await tiktok_oauth.exchange(
                    http, settings(), code="c", redirect_uri="https://r", code_verifier="v"
                )
    assert (failed.value.code, failed.value.message) == ("platform_unavailable", message)


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
