"""A webhook receiver, as a partner would run one: verifies X-Layers-Signature, keeps what it got.

POST /webhooks/{name}             the receiver (point a webhook endpoint's url at it)
GET  /_sandbox/webhooks[?name=]   what it received, oldest first, each with `signatureValid`
POST /_sandbox/webhooks/{name}    tell it the signing secret(s) to verify with, and script failures:
     {"secrets": ["whsec_..."], "failStatus": 503, "failCount": 3, "delaySeconds": 2.5,
      "retryAfter": "1"}
     The next `failCount` requests answer `failStatus` (after `delaySeconds`); with failCount and
     no failStatus, requests are only slowed. -1 as failCount fails until told otherwise.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crier.webhooks.signing import SignatureInvalid, verify

router = APIRouter()


@dataclass
class Receiver:
    secrets: list[str] = field(default_factory=list)
    fail_status: int | None = None
    fail_count: int = 0
    delay_seconds: float = 0.0
    retry_after: str | None = None


@dataclass
class WebhookInbox:
    receivers: dict[str, Receiver] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)

    def reset(self) -> None:
        self.receivers.clear()
        self.received.clear()


def inbox_of(request: Request) -> WebhookInbox:
    app_state = request.app.state
    if not hasattr(app_state, "webhook_inbox"):
        app_state.webhook_inbox = WebhookInbox()
    inbox: WebhookInbox = app_state.webhook_inbox
    return inbox


def _signature_valid(receiver: Receiver, header: str | None, body: bytes) -> bool | None:
    if not receiver.secrets:
        return None  # not told the secret: cannot say
    for secret in receiver.secrets:
        try:
            return verify(secret, header, body)
        except SignatureInvalid:
            continue
    return False


@router.post("/webhooks/{name}")
async def receive(name: str, request: Request) -> JSONResponse:
    inbox = inbox_of(request)
    receiver = inbox.receivers.setdefault(name, Receiver())
    body = await request.body()
    failing = receiver.fail_count != 0
    if failing and receiver.fail_count > 0:
        receiver.fail_count -= 1
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    header = request.headers.get("x-layers-signature")
    inbox.received.append(
        {
            "name": name,
            "receivedAt": time.time(),
            "eventId": request.headers.get("x-layers-event-id"),
            "signature": header,
            "signatureValid": _signature_valid(receiver, header, body),
            "userAgent": request.headers.get("user-agent"),
            "event": event,
            "body": body.decode("utf-8", "replace"),
            "answered": receiver.fail_status if failing and receiver.fail_status else 200,
        }
    )
    if failing and receiver.delay_seconds:
        await asyncio.sleep(receiver.delay_seconds)
    if failing and receiver.fail_status:
        headers = {"Retry-After": receiver.retry_after} if receiver.retry_after else None
        return JSONResponse({"error": "scripted failure"}, receiver.fail_status, headers=headers)
    return JSONResponse({"received": True})


@router.get("/_sandbox/webhooks")
async def received(request: Request, name: str | None = None) -> JSONResponse:
    items = [item for item in inbox_of(request).received if name is None or item["name"] == name]
    return JSONResponse({"items": items})


@router.post("/_sandbox/webhooks/{name}")
async def configure(name: str, request: Request) -> JSONResponse:
    raw = await request.json()
    receiver = inbox_of(request).receivers.setdefault(name, Receiver())
    fields = {
        "secrets": "secrets",
        "failStatus": "fail_status",
        "failCount": "fail_count",
        "delaySeconds": "delay_seconds",
        "retryAfter": "retry_after",
    }
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        return JSONResponse({"error": f"unknown keys {unknown}; known: {list(fields)}"}, 400)
    for key, value in raw.items():
        setattr(receiver, fields[key], value)
    return JSONResponse(
        {
            "name": name,
            "secrets": len(receiver.secrets),
            "failStatus": receiver.fail_status,
            "failCount": receiver.fail_count,
            "delaySeconds": receiver.delay_seconds,
            "retryAfter": receiver.retry_after,
        }
    )
