"""WEBHOOKS.md §2: X-Layers-Signature, and crier.webhooks.verify as receivers use it."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from crier.webhooks import SignatureInvalid, verify
from crier.webhooks.signing import new_secret, signature_header

BODY = b'{"id":"evt_01J0000000000000000000000","type":"test.ping"}'
NOW = 1_790_000_000


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    header = signature_header(["whsec_a"], BODY, timestamp=NOW)
    expected = hmac.new(b"whsec_a", f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"


def test_a_rotation_signs_with_every_live_secret():
    header = signature_header(["whsec_new", "whsec_old"], BODY, timestamp=NOW)
    assert header.count("v1=") == 2
    assert verify("whsec_new", header, BODY, now=NOW) and verify("whsec_old", header, BODY, now=NOW)


def test_verify_accepts_str_or_bytes_bodies():
    header = signature_header(["whsec_a"], BODY, timestamp=NOW)
    assert verify("whsec_a", header, BODY.decode(), now=NOW + 10)


@pytest.mark.parametrize(
    "secret, header, body, why",
    [
        ("whsec_b", None, BODY, "wrong secret"),
        ("whsec_a", None, BODY + b" ", "body changed"),
        ("whsec_a", "", BODY, "missing header"),
        ("whsec_a", "v1=abc", BODY, "no timestamp"),
        ("whsec_a", f"t={NOW}", BODY, "no v1"),
        ("whsec_a", "t=soon,v1=abc", BODY, "malformed timestamp"),
    ],
)
def test_verify_refuses(secret, header, body, why):
    if header is None:
        header = signature_header(["whsec_a"], BODY, timestamp=NOW)
    with pytest.raises(SignatureInvalid):
        verify(secret, header, body, now=NOW)


def test_verify_refuses_a_stale_timestamp_within_tolerance_only():
    header = signature_header(["whsec_a"], BODY, timestamp=NOW)
    assert verify("whsec_a", header, BODY, now=NOW + 299)
    with pytest.raises(SignatureInvalid, match="300"):
        verify("whsec_a", header, BODY, now=NOW + 301)
    assert verify("whsec_a", header, BODY, tolerance=0, now=NOW + 10_000)


def test_secrets_are_whsec_and_32_random_bytes():
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and len(first) == len("whsec_") + 43 and first != second
