"""Instagram Graph API calls for one advance(): bearer calls, error classification, token refresh.

Tokens are refreshed two ways: proactively, before the first Graph call, once a 60-day token is more
than ~24 h old (a failure there is ignored while the token is still valid), and on a 190/102 refusal.

lastError codes: `GRAPH_<code>` or, when Graph sends a subcode, `GRAPH_<code>_<subcode>`
(e.g. `GRAPH_9_2207042` for the daily publishing cap, `GRAPH_10` for a personal account).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NoReturn

import httpx

from crier.core.settings import Settings
from crier.core.vocabulary import Platform
from crier.platforms.base import Outcome, OutcomeKind
from crier.platforms.bearer import BearerClient, time_left
from crier.platforms.http import json_object, retry_after_seconds
from crier.platforms.steps import StepFailed, fail

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


class GraphClient(BearerClient):
    """One advance() call's Graph calls: Graph's error body, the token refresh, Graph's error codes."""

    platform = PLATFORM
    name = "Instagram"

    @staticmethod
    def base_url(settings: Settings) -> str:
        return settings.instagram_api_base

    async def refresh_if_old(self) -> None:
        """Refresh an aging, still valid token before the first call; a failure keeps the old token."""
        if self.refreshed or self.store.handles.get(REFRESH_ERROR):
            return
        # Unknown expiry: no proactive refresh. Already expired: only the 190 path can tell.
        left = time_left(self.job.account.token_expires_at)
        if left is None or not timedelta(0) < left < PROACTIVE_REFRESH_REMAINING:
            return
        try:
            response = await self.request_refresh()
        except httpx.HTTPError as exc:
            await self.store.record(**{REFRESH_ERROR: type(exc).__name__})
            return
        if not await self._adopt_token(response, json_object(response) or {}):
            # Carry on: the current token is valid for up to 59 more days.
            await self.store.record(**{REFRESH_ERROR: f"HTTP_{response.status_code}"})

    async def get(self, path: str, *, what: str, **params: str) -> dict[str, Any]:
        """GET a Graph object or edge; raise StepFailed on errors."""
        return await self._call("GET", path, what=what, params=params, read=True)

    async def post(self, path: str, *, what: str, **form: str) -> dict[str, Any]:
        """POST form fields to a Graph edge; raise StepFailed on errors."""
        return await self._call("POST", path, what=what, data=form, read=False)

    def token_refused(self, body: dict[str, Any] | None) -> bool:
        error = _error(body)
        return error is not None and error.get("code") in TOKEN_CODES

    async def request_refresh(self) -> httpx.Response:
        # The refresh endpoint only takes the token in the query string; never echo this URL.
        url = f"{self.settings.instagram_refresh_base.rstrip('/')}/refresh_access_token"
        params = {"grant_type": "ig_refresh_token", "access_token": self.job.account.access_token}
        return await self.http.get(url, params=params)

    async def adopt_refresh(self, response: httpx.Response) -> None:
        body = json_object(response) or {}
        if await self._adopt_token(response, body):
            return
        if response.status_code >= 500 or response.status_code == 429 or _is_transient(_error(body)):
            raise fail(
                OutcomeKind.RETRYABLE,
                PLATFORM,
                f"GRAPH_REFRESH_HTTP_{response.status_code}",
                "Instagram token refresh failed; will retry.",
                rejected=True,
                retry_after=retry_after_seconds(response),
            )
        await self._disconnect(_error(body))

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
        url = f"{self.base}/{path.lstrip('/')}"
        response, body = await self.send(method, url, what=what, params=params, data=data)
        error = _error(body)
        if error is None and response.status_code < 400 and body is not None:
            return body
        raise await self._classify(response, error, what, read)

    async def _adopt_token(self, response: httpx.Response, body: dict[str, Any]) -> bool:
        """Save a refreshed token; False when the answer carries none."""
        token = body.get("access_token")
        if response.status_code != 200 or not isinstance(token, str) or not token:
            return False
        # Instagram has no separate refresh token: None keeps whatever is stored.
        await self.save_tokens(access_token=token, refresh_token=None, expires_in=body.get("expires_in"))
        return True

    async def _disconnect(self, error: dict[str, Any] | None) -> NoReturn:
        code = graph_code(error.get("code"), error.get("error_subcode")) if error else "GRAPH_190"
        await self.disconnect(
            f"Instagram rejected the access token ({code}) and it could not be refreshed; reconnect the account."
        )

    async def _classify(
        self, response: httpx.Response, error: dict[str, Any] | None, what: str, read: bool
    ) -> StepFailed:
        status = response.status_code
        retry_after = retry_after_seconds(response)
        if error is None:
            if status >= 500 or status == 429 or status < 400:
                # No Graph error to read (a 5xx page, an empty body): Instagram may have acted.
                return fail(
                    OutcomeKind.RETRYABLE,
                    PLATFORM,
                    f"GRAPH_HTTP_{status}",
                    f"{what}: Instagram answered http {status}.",
                    rejected=status == 429,
                    retry_after=retry_after,
                )
            return fail(
                OutcomeKind.TERMINAL,
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
            return fail(OutcomeKind.RETRYABLE, PLATFORM, label, f"{what}: {message}", retry_after=retry_after)
        if (
            code in RATE_LIMIT_CODES
            or (code == 24 and subcode == 2207008)
            or (read and (code, subcode) == (100, 33))
        ):
            # Rate limits, a container not visible yet, and Graph's 100/33 on fresh objects pass with time.
            return fail(
                OutcomeKind.RETRYABLE,
                PLATFORM,
                label,
                f"{what}: {message}",
                rejected=True,
                retry_after=retry_after,
            )
        if subcode == DAILY_CAP_SUBCODE:
            message = f"Instagram's daily publishing limit for this account was reached. ({message})"
        return fail(OutcomeKind.TERMINAL, PLATFORM, label, message, rejected=True)


def _error(body: dict[str, Any] | None) -> dict[str, Any] | None:
    error = body.get("error") if body else None
    return error if isinstance(error, dict) else None


def _is_transient(error: dict[str, Any] | None) -> bool:
    return bool(error and error.get("is_transient") is True)
