"""Instagram `draft`: an MMS with the media and caption to the organization's verified operator (Twilio).

Journal handles: `sms_sent` (intent marker, set before the Twilio call, its time in `sms_sent_at`)
and `sms_sid` (the message); reconciliation keys as in platforms.reconcile.
lastError codes: `TWILIO_<code>` from Twilio's error body, `TWILIO_HTTP_<status>` without one.
"""

from __future__ import annotations

import httpx

from crier.core.settings import Settings
from crier.platforms.base import DeliveryJob, DeliveryStore, Outcome, OutcomeKind, PlatformError
from crier.platforms.http import json_object, retry_after_seconds
from crier.platforms.reconcile import Reconciliation
from crier.platforms.sms_reconcile import find_message
from crier.platforms.steps import StepFailed, fail, irreversible, send

SENT = "sms_sent"
SID = "sms_sid"

BODY_LIMIT = 1600  # Twilio refuses longer bodies (error 21617)
MEDIA_LIMIT = 10  # Twilio takes at most 10 MediaUrl per message
RATE_LIMITED = {20429}


def message_body(job: DeliveryJob) -> str:
    """Short instructions first (so they survive truncation), then the caption to paste."""
    extra = len(job.media_urls) - MEDIA_LIMIT
    note = f" (first {MEDIA_LIMIT} of {len(job.media_urls)} media attached)" if extra > 0 else ""
    head = (
        f"Instagram draft for @{job.account.handle.lstrip('@')}{note}: save the attached media, "
        f"open Instagram and post it with this caption:\n\n"
    )
    body = head + job.caption
    return body if len(body) <= BODY_LIMIT else body[: BODY_LIMIT - 1] + "…"


class SmsDraftAdapter:
    """Sends the draft once; a lost answer is looked up in Twilio's message list, re-sent only when
    that list proves it was never created."""

    def __init__(self, *, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http, self.settings = http, settings

    async def advance(self, job: DeliveryJob, store: DeliveryStore) -> Outcome:
        """Send the MMS unless the journal shows it was sent (or may have been)."""
        sid = store.handles.get(SID)
        if sid:
            return Outcome.draft(sid)
        if store.handles.get(SENT):
            # The send went out and its answer was lost: Twilio's message list decides.
            settled = await self._reconcile(job, store)
            if settled is not None:
                return settled
        if not job.operator_phone:
            return Outcome.terminal(
                PlatformError(
                    "NO_VERIFIED_OPERATOR_PHONE",
                    "An Instagram draft is texted to the organization's primary operator, "
                    "who has no verified phone number.",
                    job.platform,
                )
            )
        try:
            sid = await irreversible(store, SENT, lambda: self._send(job))
        except StepFailed as failed:
            return failed.outcome
        await store.record(**{SID: sid})
        return Outcome.draft(sid)

    async def _reconcile(self, job: DeliveryJob, store: DeliveryStore) -> Outcome | None:
        """Find the message sent after the intent, or prove there is none (then None: send once more)."""
        reconciliation = Reconciliation(
            store, self.settings, platform=job.platform, marker=SENT, step="Twilio SMS"
        )
        await reconciliation.begin()
        if not job.operator_phone:
            return await reconciliation.unknown("no operator phone to look the message up by")
        try:
            sid, complete = await find_message(
                self.http,
                self.settings,
                to=job.operator_phone,
                body=message_body(job),
                after=reconciliation.match_after,
                platform=job.platform,
            )
        except StepFailed as failed:
            return await reconciliation.refused(failed, "Twilio refused the message lookup")
        if sid is not None:
            await reconciliation.found(**{SID: sid})
            return Outcome.draft(sid)
        return await reconciliation.not_found(complete=complete)

    async def _send(self, job: DeliveryJob) -> str:
        settings = self.settings
        url = (
            f"{settings.twilio_api_base.rstrip('/')}/2010-04-01/Accounts/"
            f"{settings.twilio_account_sid}/Messages.json"
        )
        form: dict[str, str | list[str]] = {
            "To": job.operator_phone or "",
            "From": settings.twilio_from_number,
            "Body": message_body(job),
            "MediaUrl": list(job.media_urls[:MEDIA_LIMIT]),
        }  # repeated field
        auth = (settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value())
        response = await send(
            self.http, "POST", url, platform=job.platform, what="Twilio SMS", data=form, auth=auth
        )
        body = json_object(response) or {}
        if response.status_code in (200, 201) and body.get("sid"):
            return str(body["sid"])
        code = body.get("code")
        label = f"TWILIO_{code}" if code else f"TWILIO_HTTP_{response.status_code}"
        message = str(body.get("message") or f"Twilio answered http {response.status_code}.")
        if response.status_code == 429 or code in RATE_LIMITED:
            # Twilio refused before sending: the marker is cleared and the send may go again.
            raise fail(
                OutcomeKind.RETRYABLE,
                job.platform,
                label,
                message,
                rejected=True,
                retry_after=retry_after_seconds(response),
            )
        if response.status_code >= 500 or response.status_code < 400:
            # The request reached Twilio and the answer says nothing certain: it may have been sent.
            raise fail(
                OutcomeKind.RETRYABLE, job.platform, label, message, retry_after=retry_after_seconds(response)
            )
        # 21211 bad number, 21610 unsubscribed, 20003 auth, and every other refusal: sending again won't help.
        raise fail(OutcomeKind.TERMINAL, job.platform, label, message, rejected=True)
