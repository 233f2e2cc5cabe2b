"""The sandbox's consent pages, code exchanges and profiles (PLATFORMS.md §8), driven by Crier's own
OAuth clients (crier.platforms.oauth) over an in-process transport."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from crier.platforms.oauth import OAuthFailed
from crier.platforms.oauth import instagram as instagram_oauth
from crier.platforms.oauth import tiktok as tiktok_oauth
from crier.sandbox.wiring import platform_settings
from tests.sandbox.conftest import BASE

REDIRECT = "https://crier.test/oauth/callback/tiktok"
VERIFIER = "v" * 64


@pytest.fixture
def oauth_settings(sandbox_settings):
    return sandbox_settings.model_copy(update=platform_settings(BASE))


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


async def consent(sandbox: httpx.AsyncClient, url: str) -> dict[str, str]:
    response = await sandbox.get(url.removeprefix(BASE))
    assert response.status_code == 302, response.text
    return {key: values[0] for key, values in parse_qs(urlsplit(response.headers["location"]).query).items()}


def tiktok_url(settings, scopes=("user.info.basic", "user.info.profile", "video.publish")) -> str:
    return tiktok_oauth.authorize_url(
        settings, state="st_x", scopes=list(scopes), redirect_uri=REDIRECT, code_challenge=challenge(VERIFIER)
    )


async def test_tiktok_consent_approves_and_the_code_exchanges_once_with_the_right_verifier(
    sandbox, http, oauth_settings
):
    back = await consent(sandbox, tiktok_url(oauth_settings))
    assert back["state"] == "st_x" and back["scopes"] == "user.info.basic,user.info.profile,video.publish"

    identity = await tiktok_oauth.exchange(
        http, oauth_settings, code=back["code"], redirect_uri=REDIRECT, code_verifier=VERIFIER
    )

    assert identity.handle == "creator" and identity.external_account_id.startswith("sbx-open-")
    assert identity.granted_scopes == ["user.info.basic", "user.info.profile", "video.publish"]
    assert identity.refresh_token and identity.token_expires_at and identity.refresh_token_expires_at
    with pytest.raises(OAuthFailed) as replay:
        await tiktok_oauth.exchange(
            http, oauth_settings, code=back["code"], redirect_uri=REDIRECT, code_verifier=VERIFIER
        )
    assert replay.value.code == "token_exchange_failed"


async def test_tiktok_refuses_a_code_with_the_wrong_pkce_verifier(sandbox, http, oauth_settings):
    back = await consent(sandbox, tiktok_url(oauth_settings))

    with pytest.raises(OAuthFailed, match="invalid_grant"):
        await tiktok_oauth.exchange(
            http, oauth_settings, code=back["code"], redirect_uri=REDIRECT, code_verifier="w" * 64
        )


async def test_tiktok_refuses_a_code_sent_with_another_redirect_uri(sandbox, http, oauth_settings):
    back = await consent(sandbox, tiktok_url(oauth_settings))

    with pytest.raises(OAuthFailed):
        await tiktok_oauth.exchange(
            http, oauth_settings, code=back["code"], redirect_uri=REDIRECT + "x", code_verifier=VERIFIER
        )


async def test_consent_can_be_denied_or_grant_fewer_scopes(sandbox, oauth_settings):
    await sandbox.post("/_sandbox/config", json={"oauthConsent": "deny"})
    assert (await consent(sandbox, tiktok_url(oauth_settings)))["error"] == "access_denied"

    await sandbox.post(
        "/_sandbox/config", json={"oauthConsent": "approve", "oauthGrantedScopes": ["user.info.basic"]}
    )
    assert (await consent(sandbox, tiktok_url(oauth_settings)))["scopes"] == "user.info.basic"


async def test_the_consent_page_mode_shows_escaped_approve_and_deny_links(sandbox, oauth_settings):
    await sandbox.post("/_sandbox/config", json={"oauthConsent": "page"})
    url = tiktok_url(oauth_settings, scopes=["<b>x</b>"])

    page = await sandbox.get(url.removeprefix(BASE))

    assert page.status_code == 200 and 'id="approve"' in page.text and 'id="deny"' in page.text
    assert "<b>x</b>" not in page.text and "&lt;b&gt;x&lt;/b&gt;" in page.text


async def test_an_unknown_config_value_is_refused(sandbox):
    response = await sandbox.post("/_sandbox/config", json={"oauthConsent": "maybe"})

    assert response.status_code == 400


async def test_instagram_code_short_token_long_token_and_profile(sandbox, http, oauth_settings):
    redirect = "https://crier.test/oauth/callback/instagram"
    url = instagram_oauth.authorize_url(
        oauth_settings, state="st_y", scopes=list(instagram_oauth.DEFAULT_SCOPES), redirect_uri=redirect
    )
    back = await consent(sandbox, url)

    identity = await instagram_oauth.exchange(http, oauth_settings, code=back["code"], redirect_uri=redirect)

    assert identity.handle == "creator" and identity.instagram_account_type == "business"
    assert identity.external_account_id.startswith("1784") and identity.access_token.startswith("sbx-igl.")
    assert identity.granted_scopes == sorted(instagram_oauth.DEFAULT_SCOPES)


async def test_instagram_reports_a_personal_account(sandbox, http, oauth_settings):
    await sandbox.post("/_sandbox/config", json={"instagramAccountType": "PERSONAL"})
    redirect = "https://crier.test/oauth/callback/instagram"
    back = await consent(
        sandbox,
        instagram_oauth.authorize_url(
            oauth_settings, state="s", scopes=["instagram_business_basic"], redirect_uri=redirect
        ),
    )

    identity = await instagram_oauth.exchange(http, oauth_settings, code=back["code"], redirect_uri=redirect)

    assert identity.instagram_account_type == "personal"


async def test_tiktok_revoke_is_recorded_by_account(sandbox, http, oauth_settings):
    assert await tiktok_oauth.revoke(http, oauth_settings, access_token="sbx-at.creator.7") is True

    records = (await sandbox.get("/_sandbox/records")).json()
    assert records["oauth"]["revocations"] == [{"platform": "tiktok", "account": "creator"}]


async def test_a_failed_revoke_is_false_not_an_exception(sandbox, http, oauth_settings):
    await sandbox.post(
        "/_sandbox/faults", json={"calls": [{"endpoint": "tiktok.oauth_revoke", "status": 503}]}
    )

    assert await tiktok_oauth.revoke(http, oauth_settings, access_token="sbx-at.creator.7") is False


async def test_the_partner_stand_in_page_escapes_what_it_shows(sandbox):
    page = await sandbox.get("/_sandbox/partner/connected?" + urlencode({"status": "<script>x</script>"}))

    assert "<script>x</script>" not in page.text and "&lt;script&gt;" in page.text
