"""Instagram Graph API calls for one advance(): bearer calls, error classification, token refresh.

Tokens are refreshed two ways: proactively, before the first Graph call, once a 60-day token is more
than ~24 h old (a failure there is ignored while the token is still valid), and on a 190/102 refusal.

lastError codes: `GRAPH_<code>` or, when Graph sends a subcode, `GRAPH_<code>_<subcode>`
(e.g. `GRAPH_9_2207042` for the daily publishing cap, `GRAPH_10` for a personal account).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from crier.core.settings import Settings
from crier.core.vocabulary import Platform
from crier.platforms.base import CREDENTIAL_INVALID, DeliveryJob, DeliveryStore, Outcome
from crier.platforms.http import expiry_from_lifetime, json_object, retry_after_seconds
from crier.platforms.steps import StepFailed, fail, network_failure

PLATFORM = Platform.INSTAGRAM

TOKEN_CODES = {190, 102}
SERVER_CODES = {1, 2, -1, -2}
RATE_LIMIT_CODES = {4, 17, 32, 613, 80002}
NOT_READY = (9007, 2207027)
DAILY_CAP_SUBCODE = 2207042
# Instagram Login tokens live 60 days and can be refreshed once they are 24 h old: refresh one that
# has less than 59 days left. That also covers the 7-days-before-expiry bound with room to spare.
PROACTIVE_REFRESH_REMAINING = timedelta(days=59)
# Journal handle: a proactive refresh failed during this delivery; it is not tried again for it.
REFRESH_ERROR = "ig_token_refresh_error"


def graph_code(code: Any, subcode: Any) -> str:
    """lastError code for a Graph error."""
    return f"GRAPH_{code}_{subcode}" if subcode else f"GRAPH_{code}"


class GraphSession:
    """One advance() call's Graph calls; refreshes the token at most once on 190/102."""

    def __init__(
        self, job: DeliveryJob, journal: DeliveryStore, http: httpx.AsyncClient, settings: Settings
    ) -> None:
        self.job, self.journal, self.http, self.settings = job, journal, http, settings
        self.base = settings.instagram_api_base.rstrip("/")
        self.refreshed = False

    async def refresh_if_old(self) -> None:
        """Refresh an aging, still valid token before the first call; a failure keeps the old token."""
        if self.refreshed or self.journal.handles.get(REFRESH_ERROR):
            return
        if not _refresh_due(self.job.account.token_expires_at):
            return
        try:
            response, body = await self._request_refresh()
        except httpx.HTTPError as exc:
            await self.journal.record(**{REFRESH_ERROR: type(exc).__name__})
            return
        if not await self._store_refreshed(response, body):
            # Carry on: the current token is valid for up to 59 more days.
            await self.journal.record(**{REFRESH_ERROR: f"HTTP_{response.status_code}"})

    async def get(self, path: str, *, what: str, **params: str) -> dict[str, Any]:
        """GET a Graph object or edge; raise StepFailed on errors."""
        return await self._call("GET", path, what=what, params=params, read=True)

    async def post(self, path: str, *, what: str, **form: str) -> dict[str, Any]:
        """POST form fields to a Graph edge; raise StepFailed on errors."""
        return await self._call("POST", path, what=what, data=form, read=False)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        read: bool,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self._send(method, path, what, params, data)
        body = json_object(response)
        error = _error(body)
        if error and error.get("code") in TOKEN_CODES and not self.refreshed:
            # Graph refused before acting: the call may go again once with a refreshed token.
            await self.refresh()
            response = await self._send(method, path, what, params, data)
            body = json_object(response)
            error = _error(body)
        if error is None and response.status_code < 400 and body is not None:
            return body
        raise await self._classify(response, error, what, read)

    async def refresh(self) -> None:
        """Swap the long-lived token for a fresh one; a refused refresh disconnects the account."""
        self.refreshed = True
        try:
            response, body = await self._request_refresh()
        except httpx.HTTPError as exc:
            failed = network_failure(PLATFORM, exc, "Instagram token refresh")
            failed.rejected = True  # the call that asked for a refresh was itself refused
            raise failed from None
        if await self._store_refreshed(response, body):
            return
        if response.status_code >= 500 or response.status_code == 429 or _is_transient(_error(body)):
            raise fail(
                "retryable",
                PLATFORM,
                f"GRAPH_REFRESH_HTTP_{response.status_code}",
                "Instagram token refresh failed; will retry.",
                rejected=True,
                retry_after=retry_after_seconds(response),
            )
        await self._disconnect(_error(body))

    async def _request_refresh(self) -> tuple[httpx.Response, dict[str, Any]]:
        # The refresh endpoint only takes the token in the query string; never echo this URL.
        url = f"{self.settings.instagram_refresh_base.rstrip('/')}/refresh_access_token"
        params = {"grant_type": "ig_refresh_token", "access_token": self.job.account.access_token}
        response = await self.http.get(url, params=params)
        return response, json_object(response) or {}

    async def _store_refreshed(self, response: httpx.Response, body: dict[str, Any]) -> bool:
        """Journal and adopt a refreshed token; False when the answer carries none."""
        token = body.get("access_token")
        if response.status_code != 200 or not isinstance(token, str) or not token:
            return False
        expires_at = expiry_from_lifetime(body.get("expires_in"))
        # Instagram has no separate refresh token: None keeps whatever is stored.
        await self.journal.save_tokens(access_token=token, refresh_token=None, token_expires_at=expires_at)
        self.job.account.access_token = token
        self.job.account.token_expires_at = expires_at
        self.refreshed = True  # one refresh per advance(): a brand-new token refused is revoked
        return True

    async def _disconnect(self, error: dict[str, Any] | None) -> None:
        code = graph_code(error.get("code"), error.get("error_subcode")) if error else "GRAPH_190"
        reason = f"Instagram rejected the access token ({code}) and it could not be refreshed; reconnect the account."
        await self.journal.disconnect_account(reason)
        raise fail("terminal", PLATFORM, CREDENTIAL_INVALID, reason, rejected=True)

    async def _send(
        self, method: str, path: str, what: str, params: dict[str, str] | None, data: dict[str, str] | None
    ) -> httpx.Response:
        # Bearer header rather than ?access_token=: URLs end up in logs and exception texts.
        headers = {"Authorization": f"Bearer {self.job.account.access_token}"}
        try:
            return await self.http.request(
                method, f"{self.base}/{path.lstrip('/')}", params=params, data=data, headers=headers
            )
        except httpx.HTTPError as exc:
            raise network_failure(PLATFORM, exc, what) from None

    async def _classify(
        self, response: httpx.Response, error: dict[str, Any] | None, what: str, read: bool
    ) -> StepFailed:
        status = response.status_code
        retry_after = retry_after_seconds(response)
        if error is None:
            if status >= 500 or status == 429 or status < 400:
                # No Graph error to read (a 5xx page, an empty body): Instagram may have acted.
                return fail(
                    "retryable",
                    PLATFORM,
                    f"GRAPH_HTTP_{status}",
                    f"{what}: Instagram answered http {status}.",
                    rejected=status == 429,
                    retry_after=retry_after,
                )
            return fail(
                "terminal",
                PLATFORM,
                f"GRAPH_HTTP_{status}",
                f"{what}: Instagram answered http {status}.",
                rejected=True,
            )
        code, subcode = error.get("code"), error.get("error_subcode")
        label = graph_code(code, subcode)
        message = str(error.get("message") or f"{what} was refused by Instagram.")
        if code in TOKEN_CODES:
            await self._disconnect(error)
        if code == NOT_READY[0] or subcode == NOT_READY[1]:
            return StepFailed(Outcome.processing(), rejected=True)
        if code in SERVER_CODES or _is_transient(error) or status >= 500:
            return fail("retryable", PLATFORM, label, f"{what}: {message}", retry_after=retry_after)
        if (
            code in RATE_LIMIT_CODES
            or (code == 24 and subcode == 2207008)
            or (read and (code, subcode) == (100, 33))
        ):
            # Rate limits, a container not visible yet, and Graph's 100/33 on fresh objects pass with time.
            return fail(
                "retryable", PLATFORM, label, f"{what}: {message}", rejected=True, retry_after=retry_after
            )
        if subcode == DAILY_CAP_SUBCODE:
            message = f"Instagram's daily publishing limit for this account was reached. ({message})"
        return fail("terminal", PLATFORM, label, message, rejected=True)


def _refresh_due(expires_at: datetime | None) -> bool:
    # Unknown expiry: no proactive refresh. Already expired: only the 190 path can tell.
    if expires_at is None:
        return False
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    now = datetime.now(UTC)
    return now < expires_at < now + PROACTIVE_REFRESH_REMAINING


def _error(body: dict[str, Any] | None) -> dict[str, Any] | None:
    error = body.get("error") if body else None
    return error if isinstance(error, dict) else None


def _is_transient(error: dict[str, Any] | None) -> bool:
    return bool(error and error.get("is_transient") is True)
