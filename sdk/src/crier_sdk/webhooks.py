"""Check that a webhook request came from Crier (WEBHOOKS.md §2) before trusting its body.

`X-Layers-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, with one `v1=`
per live secret while a secret is being rotated. The HMAC key is the signing secret exactly as Crier
showed it (`whsec_...`), as UTF-8 bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterable

from crier_sdk.errors import CrierError
from crier_sdk.models import WebhookEvent

SIGNATURE_HEADER = "X-Layers-Signature"
EVENT_ID_HEADER = "X-Layers-Event-Id"


class WebhookSignatureError(CrierError):
    """The request is not (or no longer) a valid Crier webhook: answer it with a 4xx."""


def sign(secret: str, raw_body: bytes, timestamp: int) -> str:
    """The header value Crier would send for this body at `timestamp` (for receivers' own tests)."""
    return f"t={timestamp},v1={_digest(secret, timestamp, raw_body)}"


def verify_signature(
    secret: str | Iterable[str],
    header: str | None,
    raw_body: bytes | str,
    tolerance: int = 300,
    *,
    now: float | None = None,
) -> None:
    """Raise WebhookSignatureError unless `header` signs `raw_body` with `secret` within `tolerance` seconds.

    Pass the body exactly as received (bytes, before any JSON parsing). `secret` may be several
    secrets (a receiver that keeps the old one during its own rotation).
    """
    if not header:
        raise WebhookSignatureError(f"missing {SIGNATURE_HEADER} header")
    body = raw_body.encode() if isinstance(raw_body, str) else raw_body
    timestamp, signatures = _parse(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookSignatureError(f"timestamp {timestamp} is outside the {tolerance}s tolerance")
    secrets = [secret] if isinstance(secret, str) else list(secret)
    expected = [_digest(candidate, timestamp, body) for candidate in secrets]
    if not any(hmac.compare_digest(want, got) for want in expected for got in signatures):
        raise WebhookSignatureError("no v1 signature matches the signing secret")


def parse_event(
    secret: str | Iterable[str], header: str | None, raw_body: bytes | str, tolerance: int = 300
) -> WebhookEvent:
    """verify_signature, then the body as a typed event."""
    verify_signature(secret, header, raw_body, tolerance)
    return WebhookEvent.model_validate(json.loads(raw_body))


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise WebhookSignatureError("the signature's t= is not a unix timestamp") from None
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookSignatureError("the signature header needs t= and at least one v1=")
    return timestamp, signatures
