"""Instagram API with Instagram Login (PLATFORMS.md §8): authorize URL, code exchange, the swap
for a long-lived token, and the /me profile."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from crier.core.settings import Settings
from crier.platforms.http import expiry_from_lifetime, json_object
from crier.platforms.oauth.base import ConnectedIdentity, OAuthFailed, request, scope_list

DEFAULT_SCOPES = ("instagram_business_basic", "instagram_business_content_publish")
REQUIRED_SCOPES = ("instagram_business_basic",)
KNOWN_SCOPES = (*DEFAULT_SCOPES, "instagram_business_manage_comments", "instagram_business_manage_messages")
# /me's account_type → the account type Crier stores (readiness: only business and creator publish).
ACCOUNT_TYPES = {
    "BUSINESS": "business",
    "MEDIA_CREATOR": "creator",
    "CREATOR": "creator",
    "PERSONAL": "personal",
}


def authorize_url(settings: Settings, *, state: str, scopes: list[str], redirect_uri: str) -> str:
    """The consent page the end customer is sent to."""
    query = {
        "client_id": settings.instagram_app_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": ",".join(scopes),
        "state": state,
    }
    return f"{settings.instagram_authorize_url}?{urlencode(query)}"


async def exchange(
    http: httpx.AsyncClient, settings: Settings, *, code: str, redirect_uri: str
) -> ConnectedIdentity:
    """Code → short-lived token → long-lived token (~60 days) → profile."""
    secret = settings.instagram_app_secret.get_secret_value()
    form = {
        "client_id": settings.instagram_app_id,
        "client_secret": secret,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
        "code": code,
    }
    short = await _call(
        http,
        "POST",
        f"{settings.instagram_oauth_base.rstrip('/')}/oauth/access_token",
        "token_exchange_failed",
        "the authorization code",
        data=form,
    )
    # Newer answers wrap it: {"data": [{"access_token", "user_id", "permissions"}]}; older ones are flat.
    if isinstance(short.get("data"), list) and short["data"] and isinstance(short["data"][0], dict):
        short = short["data"][0]
    short_token = short.get("access_token")
    if not isinstance(short_token, str) or not short_token:
        raise OAuthFailed("token_exchange_failed", "Instagram's code exchange answered no access token.")
    graph = settings.instagram_refresh_base.rstrip("/")
    # The token rides in the query string here (the only way this endpoint takes it): never log this URL.
    long = await _call(
        http,
        "GET",
        f"{graph}/access_token",
        "token_exchange_failed",
        "the long-lived token swap",
        params={"grant_type": "ig_exchange_token", "client_secret": secret, "access_token": short_token},
    )
    access_token = long.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise OAuthFailed(
            "token_exchange_failed", "Instagram's long-lived token swap answered no access token."
        )
    profile = await _call(
        http,
        "GET",
        f"{graph}/v25.0/me",
        "profile_failed",
        "the profile read",
        params={"fields": "user_id,username,account_type,name,profile_picture_url"},
        headers={"Authorization": f"Bearer {access_token}"},
    )
    user_id = str(profile.get("user_id") or short.get("user_id") or profile.get("id") or "")
    username = profile.get("username")
    if not user_id or not isinstance(username, str) or not username:
        raise OAuthFailed("profile_failed", "Instagram's profile answer lacks the user_id or the username.")
    return ConnectedIdentity(
        external_account_id=user_id,
        handle=username.lstrip("@"),
        display_name=profile.get("name") if isinstance(profile.get("name"), str) else None,
        avatar_url=profile.get("profile_picture_url")
        if isinstance(profile.get("profile_picture_url"), str)
        else None,
        access_token=access_token,
        token_expires_at=expiry_from_lifetime(long.get("expires_in")),
        granted_scopes=scope_list(short.get("permissions") or short.get("scope")),
        instagram_account_type=ACCOUNT_TYPES.get(str(profile.get("account_type") or "").upper()),
    )


async def _call(
    http: httpx.AsyncClient, method: str, url: str, code: str, what: str, **options: Any
) -> dict[str, Any]:
    response = await request(http, method, url, unavailable=f"Instagram did not answer {what}", **options)
    body = json_object(response) or {}
    error = body.get("error")
    if response.status_code != 200 or error:
        label = (
            error.get("code") if isinstance(error, dict) else body.get("error_type")
        ) or response.status_code
        raise OAuthFailed(code, f"Instagram refused {what} ({label}).")
    return body
