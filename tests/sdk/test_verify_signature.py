"""verify_signature checks X-Layers-Signature as WEBHOOKS.md §2 writes it."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from crier_sdk import WebhookSignatureError, parse_event, verify_signature
from tests.sdk import wire_examples as ex

NOW = 1_776_505_212
BODY = json.dumps(
    {
        "id": "evt_01HXZ9ABCDEFGHJKMNPQRSTVWX",
        "type": "post.published",
        "createdAt": ex.TIME,
        "organizationId": "org_1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9",
        "projectId": ex.PROJECT_ID,
        "data": {"scheduledPostId": ex.POST_ID, "status": "published", "sequence": 2},
    }
).encode()


def signed(secret: str, body: bytes, timestamp: int) -> str:
    """Computed here from the contract's formula, not with the SDK's own `sign`."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_a_body_signed_with_the_secret_verifies():
    verify_signature(ex.SECRET, f"t={NOW},v1={signed(ex.SECRET, BODY, NOW)}", BODY, now=NOW + 10)


def test_during_a_rotation_either_v1_may_match():
    header = f"t={NOW},v1={signed('whsec_old', BODY, NOW)},v1={signed(ex.SECRET, BODY, NOW)}"

    verify_signature(ex.SECRET, header, BODY, now=NOW)
    verify_signature("whsec_old", header, BODY, now=NOW)


def test_a_receiver_may_hold_several_secrets():
    verify_signature(["whsec_other", ex.SECRET], f"t={NOW},v1={signed(ex.SECRET, BODY, NOW)}", BODY, now=NOW)


def test_a_changed_body_is_refused():
    header = f"t={NOW},v1={signed(ex.SECRET, BODY, NOW)}"

    with pytest.raises(WebhookSignatureError, match="no v1 signature matches"):
        verify_signature(ex.SECRET, header, BODY.replace(b"published", b"failed"), now=NOW)


def test_another_secret_is_refused():
    with pytest.raises(WebhookSignatureError):
        verify_signature("whsec_wrong", f"t={NOW},v1={signed(ex.SECRET, BODY, NOW)}", BODY, now=NOW)


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_timestamp_outside_the_tolerance_is_refused(skew):
    with pytest.raises(WebhookSignatureError, match="tolerance"):
        verify_signature(ex.SECRET, f"t={NOW},v1={signed(ex.SECRET, BODY, NOW)}", BODY, now=NOW + skew)


def test_the_tolerance_is_the_callers():
    verify_signature(
        ex.SECRET, f"t={NOW},v1={signed(ex.SECRET, BODY, NOW)}", BODY, tolerance=3600, now=NOW + 3000
    )


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={NOW}", "t=yesterday,v1=abc", "garbage"])
def test_a_missing_or_malformed_header_is_refused(header):
    with pytest.raises(WebhookSignatureError):
        verify_signature(ex.SECRET, header, BODY, now=NOW)


def test_parse_event_verifies_then_types_the_body(monkeypatch):
    monkeypatch.setattr("crier_sdk.webhooks.time.time", lambda: NOW)

    event = parse_event(ex.SECRET, f"t={NOW},v1={signed(ex.SECRET, BODY, NOW)}", BODY)

    assert (event.type, event.project_id, event.data["sequence"]) == ("post.published", ex.PROJECT_ID, 2)
