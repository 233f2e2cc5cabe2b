"""What a finished code exchange yields, and how it fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx


@dataclass(frozen=True)
class ConnectedIdentity:
    """The platform account that consented, with its tokens (plaintext: encrypt before storing)."""

    external_account_id: str
    handle: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    token_expires_at: datetime | None = None
    refresh_token_expires_at: datetime | None = None
    granted_scopes: list[str] = field(default_factory=list)
    display_name: str | None = None
    avatar_url: str | None = None
    # Instagram only: business / creator / personal (personal accounts cannot publish).
    instagram_account_type: str | None = None


class OAuthFailed(Exception):
    """The exchange or the profile read failed; `code` is what the partner's returnUrl receives
    as `layers_oauth_error`, `message` what oauth-status shows. Neither ever carries a token."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def scope_list(value: object) -> list[str]:
    """Granted scopes as the platforms spell them: "a,b", "a b" or ["a", "b"]."""
    if isinstance(value, list):
        items = [str(item) for item in value]
    elif isinstance(value, str):
        items = value.replace(" ", ",").split(",")
    else:
        items = []
    return sorted({item.strip() for item in items if item.strip()})


async def request(
    http: httpx.AsyncClient, method: str, url: str, *, unavailable: str, **options: Any
) -> httpx.Response:
    """Send one OAuth call; a transport failure is `platform_unavailable`, `unavailable` says who."""
    try:
        return await http.request(method, url, **options)
    except httpx.HTTPError as exc:
        # Only the exception's class: its text may hold the URL, and some of these URLs hold a token.
        raise OAuthFailed("platform_unavailable", f"{unavailable} ({type(exc).__name__}).") from None
