"""TikTok Login Kit for Web (PLATFORMS.md §8): authorize URL with PKCE, code exchange, profile, revoke."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import httpx

from crier.core.settings import Settings
from crier.platforms.http import expiry_from_lifetime, json_object, object_member
from crier.platforms.oauth.base import ConnectedIdentity, OAuthFailed, request, scope_list

log = logging.getLogger(__name__)

# user.info.profile gives the username (the handle); video.list lets reconciliation find a post.
DEFAULT_SCOPES = ("user.info.basic", "user.info.profile", "video.publish", "video.upload", "video.list")
REQUIRED_SCOPES = ("user.info.basic", "user.info.profile")
KNOWN_SCOPES = (*DEFAULT_SCOPES, "user.info.stats")
PROFILE_FIELDS = "open_id,union_id,avatar_url,display_name,username"


def authorize_url(
    settings: Settings, *, state: str, scopes: list[str], redirect_uri: str, code_challenge: str
) -> str:
    """The consent page the end customer is sent to."""
    query = {
        "client_key": settings.tiktok_client_key,
        "scope": ",".join(scopes),
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    return f"{settings.tiktok_authorize_url}?{urlencode(query)}"


async def exchange(
    http: httpx.AsyncClient, settings: Settings, *, code: str, redirect_uri: str, code_verifier: str
) -> ConnectedIdentity:
    """Trade the code for tokens, then read who consented."""
    form = {
        "client_key": settings.tiktok_client_key,
        "client_secret": settings.tiktok_client_secret.get_secret_value(),
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    base = settings.tiktok_api_base.rstrip("/")
    response = await request(
        http,
        "POST",
        f"{base}/v2/oauth/token/",
        unavailable="TikTok's token endpoint did not answer",
        data=form,
    )
    body = json_object(response) or {}
    access_token = body.get("access_token")
    if (
        response.status_code != 200
        or body.get("error")
        or not isinstance(access_token, str)
        or not access_token
    ):
        # TikTok answers a refused code with HTTP 200 and {"error": "invalid_grant", ...}.
        error = body.get("error") if isinstance(body.get("error"), str) else f"http {response.status_code}"
        raise OAuthFailed("token_exchange_failed", f"TikTok refused the authorization code ({error}).")
    profile = await _profile(http, base, access_token)
    open_id = str(profile.get("open_id") or body.get("open_id") or "")
    username = str(profile.get("username") or "")
    if not open_id or not username:
        raise OAuthFailed("profile_failed", "TikTok's profile answer lacks the open_id or the username.")
    return ConnectedIdentity(
        external_account_id=open_id,
        handle=username.lstrip("@"),
        display_name=_text(profile.get("display_name")),
        avatar_url=_text(profile.get("avatar_url")),
        access_token=access_token,
        refresh_token=body.get("refresh_token") or None,
        # TikTok's pages disagree on lifetimes (24 h or 2 h, 365 or 180 days): use what it returns.
        token_expires_at=expiry_from_lifetime(body.get("expires_in")),
        refresh_token_expires_at=expiry_from_lifetime(body.get("refresh_expires_in")),
        granted_scopes=scope_list(body.get("scope")),
    )


async def _profile(http: httpx.AsyncClient, base: str, access_token: str) -> dict[str, Any]:
    response = await request(
        http,
        "GET",
        f"{base}/v2/user/info/",
        unavailable="TikTok's profile endpoint did not answer",
        params={"fields": PROFILE_FIELDS},
        headers={"Authorization": f"Bearer {access_token}"},
    )
    body = json_object(response) or {}
    error = object_member(body, "error")
    user = (body.get("data") or {}).get("user") if isinstance(body.get("data"), dict) else None
    if response.status_code != 200 or error.get("code") not in (None, "", "ok") or not isinstance(user, dict):
        raise OAuthFailed(
            "profile_failed",
            f"TikTok refused the profile read ({error.get('code') or response.status_code}).",
        )
    return user


async def revoke(http: httpx.AsyncClient, settings: Settings, *, access_token: str) -> bool:
    """Best effort: True when TikTok confirmed; a failure is logged, never raised."""
    form = {
        "client_key": settings.tiktok_client_key,
        "client_secret": settings.tiktok_client_secret.get_secret_value(),
        "token": access_token,
    }
    try:
        response = await http.post(f"{settings.tiktok_api_base.rstrip('/')}/v2/oauth/revoke/", data=form)
    except httpx.HTTPError as exc:
        log.warning("tiktok.revoke_failed", extra={"error": type(exc).__name__})
        return False
    body = json_object(response) or {}
    error = body.get("error")
    code = error.get("code") if isinstance(error, dict) else error
    if response.status_code != 200 or code not in (None, "", "ok"):
        log.warning("tiktok.revoke_failed", extra={"status": response.status_code, "error": str(code)})
        return False
    return True


def _text(value: object) -> str | None:
    return str(value) if isinstance(value, str) and value else None
