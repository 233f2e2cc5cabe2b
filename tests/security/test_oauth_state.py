"""ACCOUNTS.md: the OAuth state is the callback's only credential. A replayed, expired, foreign or
forged state is refused, and the callback never writes what it receives into a page."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import text

from tests.support.factories import ADMIN_HEADERS, error_of
from tests.support.oauth import make_partner, partner, returned_to, sandbox  # noqa: F401

HOSTILE = "<script>alert(document.cookie)</script>"


async def test_a_replayed_state_is_refused_and_changes_nothing(partner, session):
    url, first = await partner.connect("tiktok")
    assert returned_to(first)["status"] == "success"
    before = (await session.execute(text("SELECT id, access_token_encrypted FROM social_accounts"))).one()

    # The same consent again (a replayed callback carries the used state, with a fresh code).
    replay = await partner.callback(await partner.consent(url["authorizeUrl"]))

    back = returned_to(replay)
    assert back["layers_oauth_error"] == "state_invalid" and "status" not in back
    assert (
        await session.execute(text("SELECT id, access_token_encrypted FROM social_accounts"))
    ).one() == before
    assert (await partner.status(url["state"]))["status"] == "completed"


async def test_an_expired_state_is_refused(partner, session):
    url = await partner.oauth_url("tiktok")
    location = await partner.consent(url["authorizeUrl"])
    await session.execute(text("UPDATE oauth_states SET expires_at = now() - interval '1 second'"))
    await session.commit()

    callback = await partner.callback(location)

    assert returned_to(callback)["layers_oauth_error"] == "state_invalid"
    assert await session.scalar(text("SELECT count(*) FROM social_accounts")) == 0
    status = await partner.status(url["state"])
    assert status["status"] == "failed" and status["error"]["code"] == "state_expired"


async def test_a_state_whose_api_key_was_revoked_since_is_refused(partner, session):
    url = await partner.oauth_url("tiktok")
    location = await partner.consent(url["authorizeUrl"])
    await partner.client.delete(f"/admin/v1/api-keys/{partner.key['id']}", headers=ADMIN_HEADERS)

    callback = await partner.callback(location)

    assert returned_to(callback)["layers_oauth_error"] == "state_invalid"
    assert await session.scalar(text("SELECT count(*) FROM social_accounts")) == 0


async def test_a_forged_state_gets_a_plain_400_page_and_no_redirect(partner, session):
    response = await partner.client.get(f"/oauth/callback/tiktok?code=abc&state=st_{'A' * 43}")

    assert response.status_code == 400 and "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert await session.scalar(text("SELECT count(*) FROM social_accounts")) == 0


async def test_a_missing_state_gets_the_same_plain_page(partner):
    response = await partner.client.get("/oauth/callback/instagram?code=abc")

    assert response.status_code == 400 and "location" not in response.headers


async def test_a_state_sent_to_the_other_platform_s_callback_is_refused_and_stays_usable(partner, session):
    url = await partner.oauth_url("tiktok")
    location = await partner.consent(url["authorizeUrl"])

    foreign = await partner.client.get(
        location.replace("/oauth/callback/tiktok", "/oauth/callback/instagram")
    )

    assert foreign.status_code == 400 and "location" not in foreign.headers
    assert returned_to(await partner.callback(location))["status"] == "success"


async def test_another_organization_cannot_read_a_state_s_status(client, sandbox, partner):
    url = await partner.oauth_url("tiktok")
    other = await make_partner(client, sandbox, name="Other", scopes=("social:read",))

    response = await client.get(f"/v1/social/oauth-status/{url['state']}", headers=other.headers)

    error_of(response, 404, "NOT_FOUND")


async def test_the_callback_never_reflects_platform_parameters(partner):
    url = await partner.oauth_url("tiktok")
    state = url["state"]

    unknown = await partner.client.get(
        f"/oauth/callback/tiktok?state={quote(HOSTILE)}&error={quote(HOSTILE)}&error_description={quote(HOSTILE)}"
    )
    declined = await partner.client.get(
        f"/oauth/callback/tiktok?state={state}&error={quote(HOSTILE)}&error_description={quote(HOSTILE)}"
    )

    assert "script" not in unknown.text.lower() and "alert" not in unknown.text
    assert "script" not in declined.text.lower()
    back = returned_to(declined)
    assert back["layers_oauth_error"] == "oauth_error"  # not a code-shaped value: never echoed
    assert "script" not in declined.headers["location"].lower()


async def test_callback_answers_are_never_cached_nor_leak_a_referer(partner):
    _, callback = await partner.connect("tiktok")

    assert callback.headers["cache-control"] == "no-store"
    assert callback.headers["referrer-policy"] == "no-referrer"
