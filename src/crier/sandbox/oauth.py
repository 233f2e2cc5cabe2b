"""Fake consent pages, code exchanges and profiles for both platforms (PLATFORMS.md §8).

/tiktok-web/v2/auth/authorize/          → CRIER_TIKTOK_AUTHORIZE_URL (TikTok's www.tiktok.com page)
/instagram-web/oauth/authorize          → CRIER_INSTAGRAM_AUTHORIZE_URL (www.instagram.com)
/instagram-oauth/oauth/access_token     → CRIER_INSTAGRAM_OAUTH_BASE (api.instagram.com)
/instagram-refresh/access_token, /v25.0/me   (graph.instagram.com, beside the refresh)
/tiktok/v2/user/info/, /tiktok/v2/oauth/revoke/ (TikTok's code exchange shares /v2/oauth/token/)

The consent page approves at once by default (a 302 back with a code); POST /_sandbox/config
{"oauthConsent": "deny"} makes it answer error=access_denied, "page" shows Approve / Deny buttons,
and {"oauthGrantedScopes": [...]} grants only those of the scopes asked. {"oauthAccount": "other"}
changes who consents; {"instagramAccountType": "PERSONAL"} makes that Instagram account personal.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from crier.sandbox import tiktok as tiktok_fake
from crier.sandbox.faults import fault_point
from crier.sandbox.instagram import _error as graph_error
from crier.sandbox.state import SandboxState
from crier.sandbox.wire import form_dict

consent_router = APIRouter(include_in_schema=True)
tiktok_router = APIRouter(prefix="/tiktok")
instagram_oauth_router = APIRouter(prefix="/instagram-oauth")
instagram_graph_router = APIRouter(prefix="/instagram-refresh")

IG_LONG_PREFIX = "sbx-igl."


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


@consent_router.get("/tiktok-web/v2/auth/authorize/")
async def tiktok_consent(request: Request) -> Response:
    """TikTok's consent page: client_key, scope (comma-separated), redirect_uri, state, PKCE."""
    return _consent(request, platform="tiktok", client_field="client_key")


@consent_router.get("/instagram-web/oauth/authorize")
async def instagram_consent(request: Request) -> Response:
    """Instagram's consent page: client_id, scope, redirect_uri, state."""
    return _consent(request, platform="instagram", client_field="client_id")


def _consent(request: Request, *, platform: str, client_field: str) -> Response:
    state, query = _state(request), dict(request.query_params)
    redirect_uri = query.get("redirect_uri", "")
    if (
        not query.get(client_field)
        or query.get("response_type") != "code"
        or not redirect_uri.startswith("http")
    ):
        return HTMLResponse(
            "<h1>Invalid request</h1><p>client id, response_type=code and redirect_uri are required.</p>",
            status_code=400,
        )
    decision = query.pop("sandbox_decision", None) or state.config.oauth_consent
    if decision == "page":
        return HTMLResponse(_page(request, platform, query))
    back = {"state": query.get("state", "")}
    if decision == "deny":
        back.update(error="access_denied", error_description="The user denied the request.")
        return RedirectResponse(_with_query(redirect_uri, back), status_code=302)
    asked = [scope for scope in query.get("scope", "").replace(" ", ",").split(",") if scope]
    only = state.config.oauth_granted_scopes
    granted = [scope for scope in asked if only is None or scope in only]
    code = secrets.token_urlsafe(24)
    state.oauth_codes[code] = {
        "platform": platform,
        "client": query[client_field],
        "redirect_uri": redirect_uri,
        "scopes": granted,
        "account": state.config.oauth_account,
        "challenge": query.get("code_challenge"),
        "challenge_method": query.get("code_challenge_method"),
    }
    state.oauth_consents += 1
    back["code"] = code
    if platform == "tiktok":
        back["scopes"] = ",".join(granted)
    return RedirectResponse(_with_query(redirect_uri, back), status_code=302)


def _page(request: Request, platform: str, query: dict[str, str]) -> str:
    base = str(request.url.replace(query=""))
    approve = html.escape(f"{base}?{urlencode({**query, 'sandbox_decision': 'approve'})}")
    deny = html.escape(f"{base}?{urlencode({**query, 'sandbox_decision': 'deny'})}")
    scopes = html.escape(query.get("scope", ""))
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>Sandbox {platform} consent</title></head>'
        f"<body><h1>Sandbox {platform}</h1><p>An app asks for: {scopes}</p>"
        f'<p><a id="approve" href="{approve}">Approve</a> · <a id="deny" href="{deny}">Deny</a></p>'
        f"</body></html>"
    )


@consent_router.get("/_sandbox/partner/connected")
async def partner_landing(request: Request) -> HTMLResponse:
    """A stand-in for a partner's returnUrl (make dev, the browser test): shows what Crier sent back."""
    rows = "".join(
        f'<li><code>{html.escape(key)}</code> = <code id="{html.escape(key)}">{html.escape(value)}</code></li>'
        for key, value in request.query_params.multi_items()
    )
    return HTMLResponse(
        f'<!doctype html><html><head><meta charset="utf-8"><title>Partner app</title></head>'
        f"<body><h1>Back at the partner's app</h1><ul>{rows}</ul></body></html>"
    )


def exchange_tiktok_code(state: SandboxState, form: dict[str, str]) -> JSONResponse:
    """grant_type=authorization_code at /tiktok/v2/oauth/token/ (refresh grants stay in tiktok.py)."""
    record = _take_code(
        state, form.get("code", ""), "tiktok", form.get("client_key", ""), form.get("redirect_uri", "")
    )
    if record is None:
        return _tiktok_oauth_error("invalid_grant", "Authorization code is invalid or expired.")
    if record["challenge"] and not _pkce_matches(record["challenge"], form.get("code_verifier", "")):
        return _tiktok_oauth_error("invalid_grant", "Code verifier does not match the code challenge.")
    account, n = record["account"], state.number()
    state.oauth_exchanges += 1
    return JSONResponse(
        {
            "access_token": f"{state.config.token_prefix}sbx-at.{account}.{n}",
            "expires_in": 86400,
            "open_id": tiktok_open_id(account),
            "refresh_expires_in": 31536000,
            "refresh_token": f"sbx-rt.{account}.{n}",
            "scope": ",".join(record["scopes"]),
            "token_type": "Bearer",
        }
    )


@tiktok_router.post("/v2/oauth/token/")
@fault_point("tiktok.oauth_token")
async def tiktok_oauth_token(request: Request) -> JSONResponse:
    """Both grants of TikTok's token endpoint: the connect flow's code and the worker's refresh."""
    state = _state(request)
    form = await form_dict(request)
    if not form.get("client_key") or not form.get("client_secret"):
        return tiktok_fake._oauth_error("invalid_client", "Client key or secret is missing.", 401)
    if form.get("grant_type") == "authorization_code":
        return exchange_tiktok_code(state, form)
    refresh_token = str(form.get("refresh_token") or "")
    spent = refresh_token in state.tiktok_spent_refresh_tokens
    if form.get("grant_type") != "refresh_token" or not refresh_token or spent:
        # TikTok spells a refused grant with HTTP 200.
        return tiktok_fake._oauth_error("invalid_grant", "Refresh token is invalid or expired.", 200)
    state.tiktok_spent_refresh_tokens.add(refresh_token)
    state.tiktok_refreshes += 1
    account, n = tiktok_fake._key(refresh_token, "sbx-rt."), state.number()
    return JSONResponse(
        {
            "access_token": f"sbx-at.{account}.{n}",
            "expires_in": 86400,
            "open_id": "sbx-open-" + hashlib.sha1(account.encode()).hexdigest()[:12],
            "refresh_expires_in": 31536000,
            "refresh_token": f"sbx-rt.{account}.{n}",
            "scope": "user.info.basic,video.publish,video.upload",
            "token_type": "Bearer",
        }
    )


def tiktok_open_id(account: str) -> str:
    return "sbx-open-" + hashlib.sha1(account.encode()).hexdigest()[:12]


@tiktok_router.get("/v2/user/info/")
@fault_point("tiktok.user_info")
async def tiktok_user_info(request: Request) -> JSONResponse:
    account = tiktok_fake._account(request)
    if account is None:
        return tiktok_fake._unauthorized()
    creator = tiktok_fake._creator(_state(request), account)
    user = {
        "open_id": tiktok_open_id(account),
        "union_id": "sbx-union-" + tiktok_open_id(account)[9:],
        "avatar_url": creator["creator_avatar_url"],
        "display_name": creator["creator_nickname"],
        "username": creator["creator_username"],
    }
    fields = [field for field in request.query_params.get("fields", "").split(",") if field]
    return tiktok_fake._ok(
        {"user": {key: value for key, value in user.items() if not fields or key in fields}}
    )


@tiktok_router.post("/v2/oauth/revoke/")
@fault_point("tiktok.oauth_revoke")
async def tiktok_revoke(request: Request) -> JSONResponse:
    form = await form_dict(request)
    if not form.get("client_key") or not form.get("client_secret"):
        return _tiktok_oauth_error("invalid_client", "Client key or secret is missing.", 401)
    token = form.get("token", "")
    if not token:
        return _tiktok_oauth_error("invalid_request", "token is required.", 400)
    state = _state(request)
    # Only the account is recorded: records are readable by anyone who can reach the sandbox.
    state.oauth_revocations.append(
        {"platform": "tiktok", "account": tiktok_fake._key(token, f"{state.config.token_prefix}sbx-at.")}
    )
    return JSONResponse({})


@instagram_oauth_router.post("/oauth/access_token")
@fault_point("instagram.oauth_token")
async def instagram_code_exchange(request: Request) -> JSONResponse:
    state, form = _state(request), await form_dict(request)
    if form.get("grant_type") != "authorization_code" or not form.get("client_secret"):
        return _ig_oauth_error("Invalid grant_type or missing client_secret.")
    record = _take_code(
        state, form.get("code", ""), "instagram", form.get("client_id", ""), form.get("redirect_uri", "")
    )
    if record is None:
        return _ig_oauth_error("This authorization code has been used or is invalid.")
    account = record["account"]
    state.oauth_exchanges += 1
    state.ig_short_tokens[f"sbx-igs.{secrets.token_hex(8)}"] = account
    short = next(reversed(state.ig_short_tokens))
    return JSONResponse(
        {
            "data": [
                {
                    "access_token": short,
                    "user_id": instagram_user_id(account),
                    "permissions": ",".join(record["scopes"]),
                }
            ]
        }
    )


@instagram_graph_router.get("/access_token")
@fault_point("instagram.token_exchange")
async def instagram_long_lived(request: Request) -> JSONResponse:
    state, query = _state(request), request.query_params
    if query.get("grant_type") != "ig_exchange_token" or not query.get("client_secret"):
        return graph_error(100, "grant_type must be ig_exchange_token and client_secret is required.")
    account = state.ig_short_tokens.pop(query.get("access_token", ""), None)
    if account is None:
        return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
    return JSONResponse(
        {
            "access_token": f"{state.config.token_prefix}{IG_LONG_PREFIX}{account}.{state.number()}",
            "token_type": "bearer",
            "expires_in": 5183944,
        }
    )


@instagram_graph_router.get("/v25.0/me")
@fault_point("instagram.me")
async def instagram_me(request: Request) -> JSONResponse:
    state = _state(request)
    header = request.headers.get("authorization", "")
    token = (
        header[7:].strip()
        if header.lower().startswith("bearer ")
        else request.query_params.get("access_token", "")
    )
    rest = token.removeprefix(state.config.token_prefix)
    if not token.startswith(state.config.token_prefix) or not rest.startswith(IG_LONG_PREFIX):
        return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
    account = rest.removeprefix(IG_LONG_PREFIX).rsplit(".", 1)[0]
    profile = {
        "id": instagram_user_id(account),
        "user_id": instagram_user_id(account),
        "username": account,
        "account_type": state.config.instagram_account_type,
        "name": f"Sandbox {account}",
        "profile_picture_url": f"https://sandbox.invalid/avatars/{account}.jpg",
    }
    fields = [field for field in request.query_params.get("fields", "").split(",") if field]
    return JSONResponse(
        {key: value for key, value in profile.items() if not fields or key in fields or key == "id"}
    )


def instagram_user_id(account: str) -> str:
    return "1784" + str(int(hashlib.sha1(account.encode()).hexdigest()[:10], 16)).zfill(13)


def _take_code(
    state: SandboxState, code: str, platform: str, client: str, redirect_uri: str
) -> dict[str, Any] | None:
    """The code's record, once: a code is single-use and bound to its client and redirect_uri."""
    record = state.oauth_codes.pop(code, None)
    if record is None or record["platform"] != platform or record["client"] != client:
        return None
    return record if record["redirect_uri"] == redirect_uri else None


def _pkce_matches(challenge: str, verifier: str) -> bool:
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return 43 <= len(verifier) <= 128 and secrets.compare_digest(digest, challenge)


def _tiktok_oauth_error(code: str, description: str, status: int = 200) -> JSONResponse:
    return tiktok_fake._oauth_error(code, description, status)


def _ig_oauth_error(message: str) -> JSONResponse:
    return JSONResponse(
        {"error_type": "OAuthException", "code": 400, "error_message": message}, status_code=400
    )


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))
