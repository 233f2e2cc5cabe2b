"""Webhooks: signed, retried, replayable lifecycle events (WEBHOOKS.md).

`crier.webhooks.verify(secret, header, raw_body, tolerance=300)` checks an X-Layers-Signature.
"""

from crier.webhooks.signing import SignatureInvalid, verify

__all__ = ["SignatureInvalid", "verify"]
