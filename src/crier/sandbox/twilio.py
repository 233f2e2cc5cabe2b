"""Fake Twilio Messages API (PLATFORMS.md §3), mounted at /twilio."""

import base64
import re
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crier.sandbox.faults import fault_point
from crier.sandbox.state import SandboxState
from crier.sandbox.wire import form_pairs

router = APIRouter(prefix="/twilio")

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def _error(code: int, message: str, status: int) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


def _authenticated(request: Request, account_sid: str) -> bool:
    # The fake does not know the auth token: the path's AccountSid and any non-empty token pass.
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return False
    return user == account_sid and bool(password)


@router.post("/2010-04-01/Accounts/{account_sid}/Messages.json")
@fault_point("twilio.messages")
async def create_message(request: Request, account_sid: str) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    if not _authenticated(request, account_sid):
        return _error(20003, "Authenticate", 401)
    pairs = await form_pairs(request)
    form = dict(pairs)
    to, sender, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
    media = [value for key, value in pairs if key == "MediaUrl"]
    if not E164.match(to):
        return _error(21211, f"The 'To' number {to} is not a valid phone number.", 400)
    if not sender:
        return _error(21603, "A 'From' phone number is required.", 400)
    if not body and not media:
        return _error(21602, "Message body is required.", 400)
    if len(body) > 1600:
        return _error(21617, "The concatenated message body exceeds the 1600 character limit.", 400)
    if len(media) > 10:
        return _error(21623, "Too many media URLs: at most 10.", 400)
    if to in state.faults.twilio_unsubscribed:
        return _error(21610, "Attempt to send to unsubscribed recipient", 400)
    sid = "SM" + uuid.uuid4().hex
    now = format_datetime(datetime.now(UTC), usegmt=True)
    message = {
        "sid": sid,
        "account_sid": account_sid,
        "to": to,
        "from": sender,
        "body": body,
        "status": "queued",
        "num_media": str(len(media)),
        "num_segments": str(1 + len(body) // 160),
        "direction": "outbound-api",
        "date_created": now,
        "date_updated": now,
        "date_sent": None,
        "error_code": None,
        "error_message": None,
        "price": None,
        "api_version": "2010-04-01",
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }
    state.sms.append({**message, "media_urls": media})
    state.created_one("twilio", body)
    return JSONResponse(message, status_code=201)


def _public_message(message: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in message.items() if key != "media_urls"}


@router.get("/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json")
@fault_point("twilio.message_read")
async def read_message(request: Request, account_sid: str, sid: str) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    if not _authenticated(request, account_sid):
        return _error(20003, "Authenticate", 401)
    for message in state.sms:
        if message["sid"] == sid and message["account_sid"] == account_sid:
            return JSONResponse(_public_message(message))
    return _error(20404, f"The requested resource /Messages/{sid}.json was not found", 404)


@router.get("/2010-04-01/Accounts/{account_sid}/Messages.json")
@fault_point("twilio.message_list")
async def list_messages(request: Request, account_sid: str) -> JSONResponse:
    """Newest first, filtered by To and DateSent>= (a day; an unsent message counts by its creation)."""
    state: SandboxState = request.app.state.sandbox
    if not _authenticated(request, account_sid):
        return _error(20003, "Authenticate", 401)
    to, since = request.query_params.get("To"), request.query_params.get("DateSent>=")
    try:
        day = datetime.fromisoformat(since).date() if since else None
    except ValueError:
        return _error(20001, "DateSent must be YYYY-MM-DD.", 400)
    found = [
        _public_message(message)
        for message in reversed(state.sms)
        if message["account_sid"] == account_sid
        and (to is None or message["to"] == to)
        and (
            day is None
            or parsedate_to_datetime(message["date_sent"] or message["date_created"]).date() >= day
        )
    ]
    uri = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
    return JSONResponse(
        {"messages": found, "next_page_uri": None, "uri": uri, "page": 0, "page_size": len(found)}
    )
