"""`X-Layers-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, and its check.

During a rotation every live secret signs (one `v1=` each); a receiver accepts the request when any
`v1=` matches the secret it holds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """`whsec_` + 32 random bytes, base64url (unpadded)."""
    return SECRET_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(signing_secrets: list[str], body: bytes, *, timestamp: int | None = None) -> str:
    """The header value for `body`, one `v1=` per secret (newest first)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return ",".join([f"t={moment}", *(f"v1={_mac(secret, moment, body)}" for secret in signing_secrets)])


class SignatureInvalid(ValueError):
    """The signature header is missing, malformed, stale or matches none of the body's signatures."""


def verify(
    secret: str,
    header: str | None,
    raw_body: bytes | str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> bool:
    """Check a webhook request; True when valid, SignatureInvalid (a ValueError) saying why otherwise.

    `raw_body` must be the bytes as received (parse the JSON only after this returns). `tolerance`
    bounds the age of `t=` in seconds, refusing replays of old captured requests (0 turns it off).
    """
    if not header:
        raise SignatureInvalid("missing X-Layers-Signature header")
    body = raw_body.encode() if isinstance(raw_body, str) else bytes(raw_body)
    timestamp, candidates = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureInvalid("malformed X-Layers-Signature header (want t=...,v1=...)")
    current = time.time() if now is None else now
    if tolerance and abs(current - timestamp) > tolerance:
        raise SignatureInvalid(f"timestamp is more than {tolerance} s away from now")
    expected = _mac(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureInvalid("no v1 signature matches this secret")
    return True
