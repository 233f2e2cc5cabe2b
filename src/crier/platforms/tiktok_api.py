"""TikTok's wire protocol for one advance() call: bearer calls, the envelope, and token refresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from crier.core.settings import Settings
from crier.core.vocabulary import Platform
from crier.platforms.base import CREDENTIAL_INVALID, DeliveryJob, DeliveryStore
from crier.platforms.http import expiry_from_lifetime, json_object, retry_after_seconds
from crier.platforms.steps import fail, network_failure

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


def _expiring(expires_at: datetime | None) -> bool:
    if expires_at is None:
        return False
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    return expires_at - datetime.now(UTC) <= REFRESH_MARGIN


class TikTokSession:
    """One advance() call's TikTok calls; refreshes the access token at most once."""

    def __init__(
        self, job: DeliveryJob, journal: DeliveryStore, http: httpx.AsyncClient, settings: Settings
    ) -> None:
        self.job, self.journal, self.http, self.settings = job, journal, http, settings
        self.base = settings.tiktok_api_base.rstrip("/")
        self.refreshed = False

    async def ensure_fresh_token(self) -> None:
        """Refresh before expiry (within 5 minutes or past) when a refresh token is at hand."""
        account = self.job.account
        if account.refresh_token and _expiring(account.token_expires_at):
            await self.refresh()

    async def post(
        self, path: str, body: dict[str, Any] | None = None, *, what: str, big_ints_as_str: bool = False
    ) -> dict[str, Any]:
        """POST a /v2/post/publish/* call and return its `data`, or raise StepFailed."""
        response = await self._send(path, body, what)
        envelope = json_object(response, big_ints_as_str=big_ints_as_str)
        if (
            _code(envelope) == "access_token_invalid"
            and not self.refreshed
            and self.job.account.refresh_token
        ):
            # TikTok refused before acting, so the call may go again once with a fresh token.
            await self.refresh()
            response = await self._send(path, body, what)
            envelope = json_object(response, big_ints_as_str=big_ints_as_str)
        return await self._check(response, envelope, what)

    async def refresh(self) -> None:
        """Rotate the tokens via /v2/oauth/token/ and journal them; a refused grant disconnects."""
        # Every failure here is `rejected`: any publish call that triggered the refresh was refused.
        self.refreshed = True
        form = {
            "client_key": self.settings.tiktok_client_key,
            "client_secret": self.settings.tiktok_client_secret.get_secret_value(),
            "grant_type": "refresh_token",
            "refresh_token": self.job.account.refresh_token or "",
        }
        try:
            response = await self.http.post(f"{self.base}/v2/oauth/token/", data=form)
        except httpx.HTTPError as exc:
            failed = network_failure(PLATFORM, exc, "TikTok token refresh")
            failed.rejected = True
            raise failed from None
        body = json_object(response) or {}
        error = body.get("error")
        if isinstance(error, dict):  # tolerate an envelope-shaped answer too
            error = None if error.get("code") in (None, "", "ok") else error.get("code")
        if error == "invalid_grant":
            await self._disconnect("TikTok refused the refresh token (invalid_grant); reconnect the account.")
        if error and response.status_code < 500 and response.status_code != 429:
            # e.g. invalid_client: Crier's app credentials are wrong, the account itself is fine.
            raise fail(
                "terminal",
                PLATFORM,
                error_code(str(error)),
                f"TikTok token refresh failed: {error}.",
                rejected=True,
            )
        if response.status_code != 200 or not body.get("access_token"):
            raise fail(
                "retryable",
                PLATFORM,
                f"TIKTOK_REFRESH_HTTP_{response.status_code}",
                "TikTok token refresh failed; will retry.",
                rejected=True,
                retry_after=retry_after_seconds(response),
            )
        await self._store_tokens(body)

    async def _store_tokens(self, body: dict[str, Any]) -> None:
        # TikTok has already spent the old refresh token: the new one in `body` is the only copy.
        # Nothing here may raise before it is saved (an odd lifetime is stored as unknown).
        account = self.job.account
        # TikTok's pages disagree on lifetimes (24 h or 2 h, 365 or 180 days): use what it returns.
        expires_at = expiry_from_lifetime(body.get("expires_in"))
        refresh_expires_at = expiry_from_lifetime(body.get("refresh_expires_in"))
        # An empty or missing refresh token in the answer must never replace the stored one.
        new_refresh = str(body["refresh_token"]) if body.get("refresh_token") else None
        await self.journal.save_tokens(
            access_token=str(body["access_token"]),
            refresh_token=new_refresh,
            token_expires_at=expires_at,
            refresh_token_expires_at=refresh_expires_at,
        )
        # The runner may hand the same job to the next advance(): keep it current.
        account.access_token = str(body["access_token"])
        account.token_expires_at = expires_at
        if new_refresh:
            account.refresh_token = new_refresh

    async def _disconnect(self, reason: str) -> None:
        await self.journal.disconnect_account(reason)
        raise fail("terminal", PLATFORM, CREDENTIAL_INVALID, reason, rejected=True)

    async def _send(self, path: str, body: dict[str, Any] | None, what: str) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {self.job.account.access_token}",
            "Content-Type": "application/json; charset=UTF-8",
        }
        try:
            return await self.http.post(f"{self.base}{path}", json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise network_failure(PLATFORM, exc, what) from None

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
                "retryable",
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
                "retryable",
                PLATFORM,
                "TIKTOK_INTERNAL_ERROR" if code else f"TIKTOK_HTTP_{status}",
                f"{what}: TikTok answered {label}.",
                retry_after=retry_after,
            )
        if code is None:
            raise fail(
                "terminal",
                PLATFORM,
                f"TIKTOK_HTTP_{status}",
                f"{what}: TikTok answered http {status}.",
                rejected=True,
            )
        if code == "access_token_invalid":
            await self._disconnect(
                "TikTok rejected the access token and a refresh did not help (or no "
                "refresh token is stored); reconnect the account."
            )
        normalized = "invalid_params" if code == "invalid_param" else code
        explanation = EXPLAIN.get(normalized, f"{what} was refused by TikTok.")
        text = f"{explanation} ({message})" if message else explanation
        raise fail("terminal", PLATFORM, error_code(code), text, rejected=True)


def _code(envelope: dict[str, Any] | None) -> str | None:
    error = envelope.get("error") if envelope else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) and code else None


def _message(envelope: dict[str, Any] | None) -> str:
    error = envelope.get("error") if envelope else None
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) else ""
