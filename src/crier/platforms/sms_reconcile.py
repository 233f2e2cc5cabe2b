"""Finding a Twilio message whose create answer was lost (PLATFORMS.md §6).

Without a sid, Twilio's list `GET .../Messages.json?To=<phone>&DateSent>=<YYYY-MM-DD>` is the record:
a message to the operator created after the intent whose body is the one sent is the draft.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from crier.core.settings import Settings
from crier.platforms.base import OutcomeKind
from crier.platforms.http import json_object, retry_after_seconds
from crier.platforms.steps import fail, send

MAX_PAGES = 4
PAGE_SIZE = "50"


async def find_message(
    http: httpx.AsyncClient, settings: Settings, *, to: str, body: str, after: datetime, platform: str
) -> tuple[str | None, bool]:
    """The sid of the matching message, and whether the whole list since `after` was read."""
    base = settings.twilio_api_base.rstrip("/")
    url: str | None = f"{base}/2010-04-01/Accounts/{settings.twilio_account_sid}/Messages.json"
    # Twilio filters by day (UTC); the exact instant is checked on each message below.
    params: dict[str, str] | None = {"To": to, "DateSent>=": after.date().isoformat(), "PageSize": PAGE_SIZE}
    auth = (settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value())
    for _ in range(MAX_PAGES):
        assert url is not None
        response = await send(
            http, "GET", url, platform=platform, what="Twilio message lookup", params=params, auth=auth
        )
        answer = json_object(response) or {}
        if response.status_code != 200:
            code = answer.get("code")
            label = f"TWILIO_{code}" if code else f"TWILIO_HTTP_{response.status_code}"
            transient = response.status_code >= 500 or response.status_code == 429
            raise fail(
                OutcomeKind.RETRYABLE if transient else OutcomeKind.TERMINAL,
                platform,
                label,
                str(answer.get("message") or "Twilio refused the lookup."),
                rejected=True,
                retry_after=retry_after_seconds(response),
            )
        for message in answer.get("messages") or []:
            if isinstance(message, dict) and _matches(message, to=to, body=body, after=after):
                return str(message["sid"]), True
        next_page = answer.get("next_page_uri")
        if not next_page:
            return None, True
        url, params = f"{base}{next_page}", None
    return None, False


def _matches(message: dict[str, Any], *, to: str, body: str, after: datetime) -> bool:
    if not message.get("sid") or message.get("to") != to or message.get("body") != body:
        return False
    created = _rfc2822(message.get("date_created"))
    return created is None or created >= after


def _rfc2822(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
