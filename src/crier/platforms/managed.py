"""Managed-distribution adapter (PLATFORMS.md §4): a signed, idempotent dispatch, then status polls.

Journal handle: `managed_dispatch_id`. No intent marker: the provider deduplicates on
`Idempotency-Key: <post id>`, so a dispatch whose answer was lost is simply sent again.
lastError codes: the provider's own `error.code` for a failed dispatch (`MANAGED_DISPATCH_FAILED`
when it gives none), `MANAGED_HTTP_<status>` for refused calls.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from crier.core.settings import Settings
from crier.core.urls import UrlRefused, pinned_request
from crier.core.vocabulary import Platform
from crier.platforms.base import (
    DeliveryJob,
    DeliveryStore,
    ManagedProvider,
    Outcome,
    OutcomeKind,
    PlatformError,
)
from crier.platforms.http import json_object, object_member, retry_after_seconds
from crier.platforms.steps import StepFailed, fail, network_failure

DISPATCH_ID = "managed_dispatch_id"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """X-Crier-Signature value: t=<unix>,v1=hex(hmac_sha256(secret, "<t>.<body>"))."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def dispatch_payload(job: DeliveryJob) -> dict[str, Any]:
    """The dispatch body as PLATFORMS.md §4 lists it."""
    music = job.tiktok_music or {}
    return {
        "scheduledPostId": job.post_id,
        "platform": job.platform,
        "account": {"externalAccountId": job.account.external_account_id, "handle": job.account.handle},
        "mediaType": job.media_type,
        "media": list(job.media_urls),
        "caption": job.caption,
        "firstComment": job.first_comment,
        "tiktokPostSettings": job.tiktok_post_settings if job.platform == Platform.TIKTOK else None,
        # Only `manual` names a track; managed providers honor it verbatim (the seed).
        "tiktokMusicLink": music.get("link") if music.get("mode") == "manual" else None,
    }


class ManagedAdapter:
    """Hands the post to the project's managed provider and follows the dispatch to its end."""

    def __init__(self, *, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http, self.settings = http, settings

    async def advance(self, job: DeliveryJob, store: DeliveryStore) -> Outcome:
        """Dispatch once (safe to repeat), then poll the dispatch's status."""
        provider = job.managed_provider
        if provider is None:
            return Outcome.terminal(
                PlatformError(
                    "MANAGED_PROVIDER_MISSING", "The account's layer names no managed provider.", job.platform
                )
            )
        try:
            dispatch_id = store.handles.get(DISPATCH_ID)
            if not dispatch_id:
                dispatch_id = await self._dispatch(job, provider)
                await store.record(**{DISPATCH_ID: dispatch_id})
                return Outcome.processing()
            return await self._poll(job, provider, dispatch_id)
        except StepFailed as failed:
            return failed.outcome

    async def _dispatch(self, job: DeliveryJob, provider: ManagedProvider) -> str:
        # Signed over exactly these bytes, and sent as these bytes (no re-serialization on the way).
        body = json.dumps(dispatch_payload(job), separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": job.post_id,
            "X-Crier-Signature": sign(provider.signing_secret, int(time.time()), body),
        }
        response = await self._call(
            "POST", f"{_base(provider)}/v1/dispatches", job, content=body, headers=headers
        )
        answer = json_object(response) or {}
        if response.status_code in (200, 201, 202) and answer.get("dispatchId"):
            return str(answer["dispatchId"])
        raise _refused(job, response, answer, "dispatch")

    async def _poll(self, job: DeliveryJob, provider: ManagedProvider, dispatch_id: str) -> Outcome:
        response = await self._call("GET", f"{_base(provider)}/v1/dispatches/{dispatch_id}", job)
        answer = json_object(response) or {}
        if response.status_code != 200:
            raise _refused(job, response, answer, "dispatch status")
        status = answer.get("status")
        if status == "published":
            external_id = answer.get("externalId")
            return Outcome.published(
                str(external_id) if external_id else None, answer.get("externalUrl") or None
            )
        if status == "failed":
            error = object_member(answer, "error")
            return Outcome.terminal(
                PlatformError(
                    str(error.get("code") or "MANAGED_DISPATCH_FAILED"),
                    str(error.get("message") or f"{provider.provider} could not publish the post."),
                    job.platform,
                )
            )
        return Outcome.processing()  # pending (or a state the provider added later)

    async def _call(self, method: str, url: str, job: DeliveryJob, **options: Any) -> httpx.Response:
        # Checked on every call, not once: a provider host could be re-pointed at a private address;
        # and the connection goes to the address checked, not to a second DNS answer.
        try:
            return await pinned_request(
                self.http, method, url, allowlist=self.settings.url_allowlist, **options
            )
        except UrlRefused as refused:
            raise fail(
                OutcomeKind.TERMINAL,
                job.platform,
                "MANAGED_PROVIDER_URL_REFUSED",
                f"The managed provider's baseUrl {refused.problem}.",
                rejected=True,
            ) from None
        except httpx.HTTPError as exc:
            raise network_failure(
                job.platform, exc, f"managed {method} {url.rsplit('/v1/', 1)[-1]}"
            ) from None


def _base(provider: ManagedProvider) -> str:
    return provider.base_url.rstrip("/")


def _refused(job: DeliveryJob, response: httpx.Response, answer: dict[str, Any], what: str) -> StepFailed:
    status = response.status_code
    error = object_member(answer, "error")
    message = str(error.get("message") or f"The managed provider answered http {status} to the {what}.")
    if status >= 500 or status in (408, 409, 425, 429) or status < 400:
        # Safe to repeat: the provider deduplicates the dispatch on its Idempotency-Key.
        return fail(
            OutcomeKind.RETRYABLE,
            job.platform,
            f"MANAGED_HTTP_{status}",
            message,
            retry_after=retry_after_seconds(response),
        )
    return fail(OutcomeKind.TERMINAL, job.platform, f"MANAGED_HTTP_{status}", message)
