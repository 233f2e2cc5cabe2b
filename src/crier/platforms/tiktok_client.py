"""TikTok's wire protocol for one advance() call: bearer calls, the envelope, and token refresh."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from crier.core.settings import Settings
from crier.core.vocabulary import Platform
from crier.platforms.base import OutcomeKind
from crier.platforms.bearer import BearerClient, time_left
from crier.platforms.http import json_object, retry_after_seconds
from crier.platforms.steps import fail

PLATFORM = Platform.TIKTOK
REFRESH_MARGIN = timedelta(minutes=5)

# Why a terminal code happened, in words a partner can act on (TikTok's own message follows).
EXPLAIN = {
    "spam_risk_too_many_posts": "TikTok's daily post limit for this creator was reached.",
    "spam_risk_user_banned_from_posting": "TikTok has banned this creator from posting.",
    "spam_risk_too_many_pending_share": "The creator has 5 pending inbox drafts; TikTok allows no more "
    "for 24 h.",
    "reached_active_user_cap": "The app reached TikTok's daily cap of active posting users.",
    "unaudited_client_can_only_post_to_private_accounts": "This TikTok app is unaudited: it may only post "
    "SELF_ONLY to private accounts.",
    "url_ownership_unverified": "The media URL's domain is not verified for this TikTok app.",
    "privacy_level_option_mismatch": "The requested privacyLevel is not available for this creator.",
    "scope_not_authorized": "The account did not grant the scope this mode needs; reconnect it.",
    "scope_permission_missed": "The account did not grant the scope this mode needs; reconnect it.",
    "app_version_check_failed": "Inbox drafts need TikTok app version 31.8 or later on the creator's phone.",
    "invalid_params": "TikTok rejected the request's parameters.",
}


def error_code(code: str) -> str:
    """lastError code for a TikTok error or fail_reason: TIKTOK_<UPPER_SNAKE>."""
    # The docs say invalid_param, live traffic says invalid_params: one code for both.
    if code == "invalid_param":
        code = "invalid_params"
    return f"TIKTOK_{code.upper()}"


class TikTokClient(BearerClient):
    """One advance() call's TikTok calls: the envelope read, the refresh grant, TikTok's error codes."""

    platform = PLATFORM
    name = "TikTok"

    @staticmethod
    def base_url(settings: Settings) -> str:
        return settings.tiktok_api_base

    async def ensure_fresh_token(self) -> None:
        """Refresh before expiry (within 5 minutes or past) when a refresh token is at hand."""
        left = time_left(self.job.account.token_expires_at)
        if self.can_refresh() and left is not None and left <= REFRESH_MARGIN:
            await self.refresh()

    async def post(
        self, path: str, body: dict[str, Any] | None = None, *, what: str, big_ints_as_str: bool = False
    ) -> dict[str, Any]:
        """POST a /v2/post/publish/* call and return its `data`, or raise StepFailed."""
        response, envelope = await self.send(
            "POST",
            f"{self.base}{path}",
            what=what,
            big_ints_as_str=big_ints_as_str,
            json=body,
            headers={"Content-Type": "application/json; charset=UTF-8"},
        )
        return await self._check(response, envelope, what)

    def token_refused(self, body: dict[str, Any] | None) -> bool:
        return _code(body) == "access_token_invalid"

    def can_refresh(self) -> bool:
        return bool(self.job.account.refresh_token)

    async def request_refresh(self) -> httpx.Response:
        form = {
            "client_key": self.settings.tiktok_client_key,
            "client_secret": self.settings.tiktok_client_secret.get_secret_value(),
            "grant_type": "refresh_token",
            "refresh_token": self.job.account.refresh_token or "",
        }
        return await self.http.post(f"{self.base}/v2/oauth/token/", data=form)

    async def adopt_refresh(self, response: httpx.Response) -> None:
        body = json_object(response) or {}
        error = body.get("error")
        if isinstance(error, dict):  # tolerate an envelope-shaped answer too
            error = None if error.get("code") in (None, "", "ok") else error.get("code")
        if error == "invalid_grant":
            await self.disconnect("TikTok refused the refresh token (invalid_grant); reconnect the account.")
        if error and response.status_code < 500 and response.status_code != 429:
            # e.g. invalid_client: Crier's app credentials are wrong, the account itself is fine.
            raise fail(
                OutcomeKind.TERMINAL,
                PLATFORM,
                error_code(str(error)),
                f"TikTok token refresh failed: {error}.",
                rejected=True,
            )
        if response.status_code != 200 or not body.get("access_token"):
            raise fail(
                OutcomeKind.RETRYABLE,
                PLATFORM,
                f"TIKTOK_REFRESH_HTTP_{response.status_code}",
                "TikTok token refresh failed; will retry.",
                rejected=True,
                retry_after=retry_after_seconds(response),
            )
        # TikTok has already spent the old refresh token: the new one in `body` is the only copy.
        # TikTok's pages disagree on lifetimes (24 h or 2 h, 365 or 180 days): use what it returns.
        await self.save_tokens(
            access_token=str(body["access_token"]),
            # An empty or missing refresh token in the answer must never replace the stored one.
            refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
            expires_in=body.get("expires_in"),
            refresh_expires_in=body.get("refresh_expires_in"),
        )

    async def _check(
        self, response: httpx.Response, envelope: dict[str, Any] | None, what: str
    ) -> dict[str, Any]:
        status, code = response.status_code, _code(envelope)
        retry_after = retry_after_seconds(response)
        if code == "ok" and status < 400:
            data = envelope.get("data") if envelope else None
            return data if isinstance(data, dict) else {}
        message = _message(envelope)
        if code == "rate_limit_exceeded" or status == 429:
            raise fail(
                OutcomeKind.RETRYABLE,
                PLATFORM,
                "TIKTOK_RATE_LIMIT_EXCEEDED",
                f"{what}: rate limited by TikTok.",
                rejected=True,
                retry_after=retry_after,
            )
        if code == "internal_error" or status >= 500 or (code is None and status < 400):
            # A 5xx or an unreadable answer: TikTok may have acted, so the call is not `rejected`.
            label = code or f"http {status}"
            raise fail(
                OutcomeKind.RETRYABLE,
                PLATFORM,
                "TIKTOK_INTERNAL_ERROR" if code else f"TIKTOK_HTTP_{status}",
                f"{what}: TikTok answered {label}.",
                retry_after=retry_after,
            )
        if code is None:
            raise fail(
                OutcomeKind.TERMINAL,
                PLATFORM,
                f"TIKTOK_HTTP_{status}",
                f"{what}: TikTok answered http {status}.",
                rejected=True,
            )
        if code == "access_token_invalid":
            await self.disconnect(
                "TikTok rejected the access token and a refresh did not help (or no "
                "refresh token is stored); reconnect the account."
            )
        normalized = "invalid_params" if code == "invalid_param" else code
        explanation = EXPLAIN.get(normalized, f"{what} was refused by TikTok.")
        text = f"{explanation} ({message})" if message else explanation
        raise fail(OutcomeKind.TERMINAL, PLATFORM, error_code(code), text, rejected=True)


def _code(envelope: dict[str, Any] | None) -> str | None:
    error = envelope.get("error") if envelope else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) and code else None


def _message(envelope: dict[str, Any] | None) -> str:
    error = envelope.get("error") if envelope else None
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) else ""
