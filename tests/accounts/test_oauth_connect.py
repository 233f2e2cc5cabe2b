"""ACCOUNTS.md: an end customer connects a TikTok or Instagram account by OAuth, end to end
against the sandbox's consent pages, token exchanges and profiles."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import text

from crier.accounts.oauth import hash_state
from crier.core import crypto
from crier.core.settings import get_settings
from tests.support.factories import error_of
from tests.support.oauth import PUBLIC_URL, RETURN_URL, make_partner, returned_to


def query_of(url: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(url).query).items()}


async def test_an_oauth_url_sends_the_customer_to_tiktok_with_a_pkce_challenge_and_crier_s_callback(partner):
    before = datetime.now(UTC)
    answer = await partner.oauth_url("tiktok")

    query = query_of(answer["authorizeUrl"])
    assert answer["authorizeUrl"].startswith(get_settings().tiktok_authorize_url)
    assert query["redirect_uri"] == f"{PUBLIC_URL}/oauth/callback/tiktok"
    assert query["state"] == answer["state"] and answer["state"].startswith("st_")
    assert len(answer["state"]) >= 3 + 22  # at least 128 bits of base64url
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert set(query["scope"].split(",")) >= {"user.info.basic", "video.publish", "video.upload"}
    expires_at = datetime.fromisoformat(answer["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=9) < expires_at - before <= timedelta(minutes=10, seconds=5)


async def test_the_state_is_stored_hashed_and_bound_to_organization_project_key_and_platform(
    partner, session
):
    answer = await partner.oauth_url("instagram")

    row = (await session.execute(text("SELECT * FROM oauth_states"))).one()
    assert row.state_hash == hash_state(answer["state"]) and answer["state"] not in str(tuple(row))
    assert (row.organization_id, row.project_id, row.api_key_id, row.platform) == (
        partner.organization["id"],
        partner.project["id"],
        partner.key["id"],
        "instagram",
    )
    assert row.code_verifier_encrypted is None and row.return_url == RETURN_URL


async def test_a_tiktok_connect_ends_with_a_connected_account_ready_to_publish(partner, session):
    url, callback = await partner.connect("tiktok")

    back = returned_to(callback)
    assert back == {"tab": "accounts", "layers_state": url["state"], "status": "success"}
    status = await partner.status(url["state"])
    assert status["status"] == "completed" and status["platform"] == "tiktok"
    [account] = (await partner.accounts())["items"]
    assert account["id"] == status["socialAccountId"] and account["status"] == "connected"
    assert account["handle"] == "creator" and account["readiness"]["publish"] is True
    assert "video.publish" in account["grantedScopes"]
    row = (await session.execute(text("SELECT * FROM social_accounts"))).one()
    assert crypto.decrypt(row.access_token_encrypted).startswith("sbx-at.creator.")
    assert crypto.decrypt(row.refresh_token_encrypted).startswith("sbx-rt.creator.")
    assert row.external_account_id.startswith("sbx-open-") and row.token_expires_at is not None


async def test_an_instagram_connect_exchanges_for_a_long_lived_token_and_reads_the_account_type(
    partner, session
):
    _url, callback = await partner.connect("instagram")

    assert returned_to(callback)["status"] == "success"
    [account] = (await partner.accounts())["items"]
    assert (account["platform"], account["handle"], account["status"]) == (
        "instagram",
        "creator",
        "connected",
    )
    assert account["readiness"] == {"publish": True, "draft": True, "managed": False}
    row = (await session.execute(text("SELECT * FROM social_accounts"))).one()
    assert row.instagram_account_type == "business"
    assert crypto.decrypt(row.access_token_encrypted).startswith("sbx-igl.creator.")
    assert row.token_expires_at > datetime.now(UTC) + timedelta(days=50)


async def test_a_personal_instagram_account_is_refused_with_account_type(partner, session):
    await partner.sandbox_config(instagramAccountType="PERSONAL")

    url, callback = await partner.connect("instagram")

    assert returned_to(callback)["layers_oauth_error"] == "account_type"
    status = await partner.status(url["state"])
    assert status["status"] == "failed" and status["error"]["code"] == "account_type"
    assert await session.scalar(text("SELECT count(*) FROM social_accounts")) == 0


async def test_a_denied_consent_sends_the_platform_error_back(partner, session):
    await partner.sandbox_config(oauthConsent="deny")

    url, callback = await partner.connect("tiktok")

    back = returned_to(callback)
    assert back["layers_oauth_error"] == "access_denied" and back["layers_state"] == url["state"]
    assert (await partner.status(url["state"]))["error"]["code"] == "access_denied"
    assert await session.scalar(text("SELECT count(*) FROM social_accounts")) == 0


async def test_fewer_granted_scopes_connect_an_account_that_is_not_ready_to_publish(partner):
    await partner.sandbox_config(oauthGrantedScopes=["user.info.basic", "user.info.profile", "video.upload"])

    _, callback = await partner.connect("tiktok")

    assert returned_to(callback)["status"] == "success"
    [account] = (await partner.accounts())["items"]
    assert account["readiness"] == {"publish": False, "draft": True, "managed": False}
    health = await partner.client.get(
        f"/v1/projects/{partner.project['id']}/social-accounts/{account['id']}/health",
        headers=partner.headers,
    )
    assert health.json()["missingScopes"] == {"publish": ["video.publish"], "draft": []}


async def test_connecting_the_same_platform_account_again_updates_the_same_row(partner, session):
    first, _ = await partner.connect("tiktok")
    first_id = (await partner.status(first["state"]))["socialAccountId"]

    second, callback = await partner.connect("tiktok")

    assert returned_to(callback)["status"] == "success"
    assert (await partner.status(second["state"]))["socialAccountId"] == first_id
    assert await session.scalar(text("SELECT count(*) FROM social_accounts")) == 1


async def test_another_platform_account_gets_its_own_row(partner, session):
    await partner.connect("tiktok")
    await partner.sandbox_config(oauthAccount="second")

    await partner.connect("tiktok")

    assert await session.scalar(text("SELECT count(DISTINCT external_account_id) FROM social_accounts")) == 2


async def test_a_reauth_binds_new_tokens_to_the_same_account_and_reconnects_it(partner, session):
    url, _ = await partner.connect("tiktok")
    account_id = (await partner.status(url["state"]))["socialAccountId"]
    await session.execute(text("UPDATE social_accounts SET status = 'reauth_required'"))
    await session.commit()
    old_token = await session.scalar(text("SELECT access_token_encrypted FROM social_accounts"))

    reauth = await partner.reauth_url(account_id)
    callback = await partner.callback(await partner.consent(reauth["authorizeUrl"]))

    assert returned_to(callback)["status"] == "success"
    assert (await partner.status(reauth["state"]))["socialAccountId"] == account_id
    row = (
        await session.execute(text("SELECT id, status, access_token_encrypted FROM social_accounts"))
    ).one()
    assert row.id == account_id and row.status == "connected" and row.access_token_encrypted != old_token


async def test_a_reauth_as_another_platform_account_is_refused(partner, session):
    url, _ = await partner.connect("tiktok")
    account_id = (await partner.status(url["state"]))["socialAccountId"]
    await partner.sandbox_config(oauthAccount="someone-else")

    reauth = await partner.reauth_url(account_id)
    callback = await partner.callback(await partner.consent(reauth["authorizeUrl"]))

    assert returned_to(callback)["layers_oauth_error"] == "account_mismatch"
    assert await session.scalar(text("SELECT count(*) FROM social_accounts")) == 1


async def test_a_return_url_off_the_key_s_allowlist_is_403(partner, session):
    response = await partner.client.post(
        f"/v1/projects/{partner.project['id']}/social/oauth-url",
        json={"platform": "tiktok", "returnUrl": "https://evil.example/steal"},
        headers=partner.headers,
    )

    error = error_of(response, 403, "RETURN_URL_NOT_ALLOWED")
    assert error["details"]["host"] == "evil.example"
    assert await session.scalar(text("SELECT count(*) FROM oauth_states")) == 0


async def test_a_look_alike_return_host_is_not_allowed(partner):
    for url in (
        "https://app.example.com.evil.example/x",
        "https://evil.example/app.example.com",
        "https://app.example.com@evil.example/",
    ):
        response = await partner.client.post(
            f"/v1/projects/{partner.project['id']}/social/oauth-url",
            json={"platform": "tiktok", "returnUrl": url},
            headers=partner.headers,
        )
        assert response.status_code in (403, 422), (url, response.text)


async def test_a_plain_http_return_url_is_refused_except_on_localhost(client, sandbox):
    partner = await make_partner(client, sandbox, hosts=("app.example.com", "localhost:3000"))

    await partner.oauth_url(returnUrl="http://localhost:3000/done")
    response = await partner.client.post(
        f"/v1/projects/{partner.project['id']}/social/oauth-url",
        json={"platform": "tiktok", "returnUrl": "http://app.example.com/done"},
        headers=partner.headers,
    )
    error_of(response, 422, "VALIDATION")


async def test_a_key_without_social_write_cannot_start_a_connect(client, sandbox):
    partner = await make_partner(client, sandbox, scopes=("social:read",))

    response = await partner.client.post(
        f"/v1/projects/{partner.project['id']}/social/oauth-url",
        json={"platform": "tiktok", "returnUrl": RETURN_URL},
        headers=partner.headers,
    )

    error_of(response, 403, "FORBIDDEN_SCOPE")


async def test_another_organization_s_project_is_404(client, sandbox, partner):
    other = await make_partner(client, sandbox, name="Other")

    response = await partner.client.post(
        f"/v1/projects/{other.project['id']}/social/oauth-url",
        json={"platform": "tiktok", "returnUrl": RETURN_URL},
        headers=partner.headers,
    )

    error_of(response, 404, "NOT_FOUND")


async def test_unknown_platform_scopes_are_a_422(partner):
    response = await partner.client.post(
        f"/v1/projects/{partner.project['id']}/social/oauth-url",
        json={"platform": "tiktok", "returnUrl": RETURN_URL, "scopes": ["everything"]},
        headers=partner.headers,
    )

    error_of(response, 422, "VALIDATION")


async def test_without_a_public_url_connecting_is_unavailable(partner, monkeypatch, session):
    monkeypatch.setattr(get_settings(), "public_url", None)

    response = await partner.client.post(
        f"/v1/projects/{partner.project['id']}/social/oauth-url",
        json={"platform": "tiktok", "returnUrl": RETURN_URL},
        headers=partner.headers,
    )

    error_of(response, 403, "PLATFORM_NOT_CONFIGURED")
    assert await session.scalar(text("SELECT count(*) FROM oauth_states")) == 0


async def test_the_pkce_verifier_crier_keeps_matches_the_challenge_it_sent(partner, session):
    answer = await partner.oauth_url("tiktok")

    stored = await session.scalar(text("SELECT code_verifier_encrypted FROM oauth_states"))
    verifier = crypto.decrypt(stored)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert query_of(answer["authorizeUrl"])["code_challenge"] == challenge and verifier not in stored


async def test_two_racing_connects_of_the_same_platform_account_make_one_row(partner, session):
    urls = [await partner.oauth_url("tiktok") for _ in range(2)]
    locations = [await partner.consent(url["authorizeUrl"]) for url in urls]

    callbacks = await asyncio.gather(*(partner.callback(location) for location in locations))

    assert [returned_to(callback)["status"] for callback in callbacks] == ["success", "success"]
    ids = {(await partner.status(url["state"]))["socialAccountId"] for url in urls}
    assert len(ids) == 1 and await session.scalar(text("SELECT count(*) FROM social_accounts")) == 1


async def test_two_racing_callbacks_of_one_state_connect_once(partner, session):
    url = await partner.oauth_url("tiktok")
    location = await partner.consent(url["authorizeUrl"])

    callbacks = await asyncio.gather(partner.callback(location), partner.callback(location))

    outcomes = sorted(returned_to(callback).get("status", "refused") for callback in callbacks)
    assert outcomes == ["refused", "success"]
    assert await session.scalar(text("SELECT count(*) FROM social_accounts")) == 1
