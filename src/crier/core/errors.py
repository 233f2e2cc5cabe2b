"""Typed errors that carry their HTTP status; one handler renders the contract's envelope."""

from __future__ import annotations

from typing import Any


class CrierError(Exception):
    status: int = 500
    code: str = "INTERNAL"
    message: str = "Internal error."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.message)


class Unauthorized(CrierError):
    status, code, message = 401, "UNAUTHORIZED", "Missing, unknown or revoked API key."


class ForbiddenScope(CrierError):
    status, code, message = 403, "FORBIDDEN_SCOPE", "The API key lacks the required scope."


class ApprovalRequired(CrierError):
    status, code, message = 403, "APPROVAL_REQUIRED", "The container must be approved before it can publish."


class NotFound(CrierError):
    status, code, message = 404, "NOT_FOUND", "Not found."


class Conflict(CrierError):
    status, code, message = 409, "CONFLICT", "The resource is not in a state that allows this."


class ContentRejected(CrierError):
    status, code, message = 409, "CONTENT_REJECTED", "The container was rejected."


class DuplicateId(CrierError):
    status, code, message = 409, "CONFLICT_DUPLICATE_ID", "A scheduledPostId already exists."


class IdempotencyInFlight(CrierError):
    status, code, message = (
        409,
        "IDEMPOTENCY_IN_FLIGHT",
        "A request with this Idempotency-Key is still running.",
    )


class PayloadTooLarge(CrierError):
    status, code, message = 413, "PAYLOAD_TOO_LARGE", "The request body is too large."


class Validation(CrierError):
    status, code, message = 422, "VALIDATION", "The request is not valid."


class ValidationFailed(CrierError):
    status, code, message = 422, "VALIDATION_FAILED", "The resource is not in a state that can be validated."


class IdempotencyKeyReused(CrierError):
    status, code, message = (
        422,
        "IDEMPOTENCY_KEY_REUSED",
        "This Idempotency-Key was used with a different body.",
    )


class NotPublishReady(CrierError):
    status, code, message = (
        422,
        "SOCIAL_ACCOUNT_NOT_PUBLISH_READY",
        "The social account cannot publish in this mode.",
    )


class RateLimited(CrierError):
    status, code, message = 429, "RATE_LIMITED", "Too many requests."


class Unavailable(CrierError):
    status, code, message = 503, "UNAVAILABLE", "A backing service is unavailable; retry shortly."


def validation_error(path: str, message: str, *, field: str | None = None, **details: Any) -> Validation:
    """A 422 VALIDATION for one field, with `details.errors` like body validation has.

    `field` names the parameter as the partner spells it (`cursor`, `events[2]`) where `path` alone
    would leave them guessing.
    """
    error = (
        {"path": path, "message": message}
        if field is None
        else {"path": path, "field": field, "message": message}
    )
    return Validation(message, details={"errors": [error], **details})
