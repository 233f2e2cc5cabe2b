"""What the TikTok and Instagram Graph clients share: bearer calls, refresh-once, token bookkeeping.

A client lives for one advance() call. It sends the account's access token as a bearer header,
maps a transport error to a retryable failure, and when the platform refuses the token (before
acting on the call) refreshes it once and sends the call again. Each platform's client keeps only
its own knowledge: which answer means "token refused", how a refresh is asked for and read.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, NoReturn

import httpx

from crier.core.settings import Settings
from crier.platforms.base import CREDENTIAL_INVALID, DeliveryJob, DeliveryStore, OutcomeKind
from crier.platforms.http import expiry_from_lifetime, json_object
from crier.platforms.steps import fail, network_failure, send


def time_left(expires_at: datetime | None) -> timedelta | None:
    """How long a token has left (negative once expired); None when its expiry is unknown."""
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    return expires_at - datetime.now(UTC)


class BearerClient(ABC):
    """One advance() call's calls with the account's bearer token, refreshed at most once."""

    platform: ClassVar[str]
    name: ClassVar[str]  # how failure messages name the platform

    def __init__(
        self, job: DeliveryJob, store: DeliveryStore, http: httpx.AsyncClient, settings: Settings
    ) -> None:
        self.job, self.store, self.http, self.settings = job, store, http, settings
        self.base = self.base_url(settings).rstrip("/")
        self.refreshed = False

    @staticmethod
    @abstractmethod
    def base_url(settings: Settings) -> str:
        """Where the platform's API answers (a setting, so tests and the sandbox can move it)."""

    @abstractmethod
    def token_refused(self, body: dict[str, Any] | None) -> bool:
        """True when the answer says the access token was refused, before the call was acted on."""

    def can_refresh(self) -> bool:
        """True when this account's token can be refreshed at all."""
        return True

    @abstractmethod
    async def request_refresh(self) -> httpx.Response:
        """Ask the platform for fresh tokens (transport errors propagate)."""

    @abstractmethod
    async def adopt_refresh(self, response: httpx.Response) -> None:
        """Read a refresh answer: save the new tokens, or raise StepFailed (disconnecting when final)."""

    async def send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        big_ints_as_str: bool = False,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> tuple[httpx.Response, dict[str, Any] | None]:
        """Send with the bearer token; a refused token is refreshed once and the call sent again."""
        response = await self._send_once(method, url, what, headers, options)
        body = json_object(response, big_ints_as_str=big_ints_as_str)
        if self.token_refused(body) and not self.refreshed and self.can_refresh():
            # The platform refused before acting, so the call may go again once with a fresh token.
            await self.refresh()
            response = await self._send_once(method, url, what, headers, options)
            body = json_object(response, big_ints_as_str=big_ints_as_str)
        return response, body

    async def refresh(self) -> None:
        """Refresh the tokens (once per advance()); every failure is `rejected`: the call that asked
        for the refresh was itself refused."""
        self.refreshed = True
        try:
            response = await self.request_refresh()
        except httpx.HTTPError as exc:
            failed = network_failure(self.platform, exc, f"{self.name} token refresh")
            failed.rejected = True
            raise failed from None
        await self.adopt_refresh(response)

    async def save_tokens(
        self,
        *,
        access_token: str,
        refresh_token: str | None,
        expires_in: Any,
        refresh_expires_in: Any = None,
    ) -> None:
        """Journal rotated tokens and use them from now on (an odd lifetime is stored as unknown)."""
        # Nothing here may raise before the journal has them: a rotated refresh token may be the only copy.
        expires_at = expiry_from_lifetime(expires_in)
        await self.store.save_tokens(
            access_token=access_token,
            refresh_token=refresh_token,
            token_expires_at=expires_at,
            refresh_token_expires_at=expiry_from_lifetime(refresh_expires_in),
        )
        # The runner may hand the same job to the next advance(): keep it current.
        account = self.job.account
        account.access_token = access_token
        account.token_expires_at = expires_at
        if refresh_token:
            account.refresh_token = refresh_token
        self.refreshed = True  # one refresh per advance(): a brand-new token refused is revoked

    async def disconnect(self, reason: str) -> NoReturn:
        """The token is dead for good: mark the account for reauth and fail the post CREDENTIAL_INVALID."""
        await self.store.disconnect_account(reason)
        raise fail(OutcomeKind.TERMINAL, self.platform, CREDENTIAL_INVALID, reason, rejected=True)

    async def _send_once(
        self, method: str, url: str, what: str, headers: dict[str, str] | None, options: dict[str, Any]
    ) -> httpx.Response:
        # Bearer header rather than ?access_token=: URLs end up in logs and exception texts.
        sent_headers = {"Authorization": f"Bearer {self.job.account.access_token}", **(headers or {})}
        return await send(
            self.http, method, url, platform=self.platform, what=what, headers=sent_headers, **options
        )
