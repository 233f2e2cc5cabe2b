"""OAuth tokens never leave Crier (ACCOUNTS.md): the connect flow of both platforms, a reauth, the
reads and a revoke run with every logger at DEBUG, as test_secrets_never_logged.py does for delivery.
Then no token the platforms issued, no PKCE verifier, no authorization code and no app secret may
appear in a log line or in any answer (the callback's redirects included)."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr
from sqlalchemy import text

from crier.core import crypto
from crier.core.settings import get_settings
from tests.security.test_secrets_never_logged import captured_logs  # noqa: F401
from tests.support.oauth import partner, returned_to, sandbox  # noqa: F401

TIKTOK_CLIENT_SECRET = f"tt-client-{secrets.token_hex(12)}"
INSTAGRAM_APP_SECRET = f"ig-app-{secrets.token_hex(12)}"


async def test_no_oauth_secret_reaches_a_log_line_or_an_answer(partner, session, captured_logs, monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "tiktok_client_secret", SecretStr(TIKTOK_CLIENT_SECRET))
    monkeypatch.setattr(settings, "instagram_app_secret", SecretStr(INSTAGRAM_APP_SECRET))
    answers, codes, verifiers, tokens = [], [], [], []
    project = f"/v1/projects/{partner.project['id']}"

    async def walk(platform: str, url: dict) -> str:
        stored = await session.scalar(
            text(
                "SELECT code_verifier_encrypted FROM oauth_states WHERE platform = :p "
                "AND status = 'pending' ORDER BY created_at DESC LIMIT 1"
            ),
            {"p": platform},
        )
        if stored:
            verifiers.append(crypto.decrypt(stored))
        location = await partner.consent(url["authorizeUrl"])
        codes.append(parse_qs(urlsplit(location).query)["code"][0])
        callback = await partner.callback(location)
        answers.append(callback)
        assert returned_to(callback)["status"] == "success"
        return (await partner.status(url["state"]))["socialAccountId"]

    tiktok_id = await walk("tiktok", await partner.oauth_url("tiktok"))
    instagram_id = await walk("instagram", await partner.oauth_url("instagram"))
    await walk("tiktok", await partner.reauth_url(tiktok_id))
    for row in (
        await session.execute(
            text("SELECT access_token_encrypted, refresh_token_encrypted FROM social_accounts")
        )
    ).all():
        tokens += [crypto.decrypt(value) for value in row if value]
    for path in (
        "/social-accounts",
        f"/social-accounts/{tiktok_id}/health",
        f"/social-accounts/{instagram_id}/health",
    ):
        answers.append(await partner.client.get(project + path, headers=partner.headers))
    answers.append(
        await partner.client.delete(f"{project}/social-accounts/{tiktok_id}", headers=partner.headers)
    )

    assert len(tokens) == 3 and len(codes) == 3 and len(verifiers) == 2
    assert all(answer.status_code in (200, 302) for answer in answers)
    forbidden = {
        "TikTok client secret": TIKTOK_CLIENT_SECRET,
        "Instagram app secret": INSTAGRAM_APP_SECRET,
        **{f"token {i}": token for i, token in enumerate(tokens)},
        **{f"authorization code {i}": code for i, code in enumerate(codes)},
        **{f"PKCE verifier {i}": verifier for i, verifier in enumerate(verifiers)},
    }
    assert any('"oauth.connected"' in line for line in captured_logs.lines)
    for line in captured_logs.lines:
        leaked = [name for name, value in forbidden.items() if value in line]
        assert not leaked, f"{leaked} in the log line {line[:2000]}"
    for answer in answers:
        visible = answer.text + "\n" + "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
        leaked = [name for name, value in forbidden.items() if value in visible]
        assert not leaked, f"{leaked} in the answer to {answer.request.method} {answer.request.url.path}"
