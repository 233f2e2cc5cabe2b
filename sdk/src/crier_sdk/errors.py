"""Typed errors built from Crier's envelope `{"error": {code, message, requestId, details}}`.

`raise_for_envelope` picks the most specific class: first by `code` (APPROVAL_REQUIRED, ...), then by
HTTP status, so `except NotFoundError` and `except ApprovalRequiredError` both read like the contract.
"""

from __future__ import annotations

from typing import Any

import httpx


class CrierError(Exception):
    """Base of everything the SDK raises."""


class CrierConnectionError(CrierError):
    """The request never got an HTTP answer (refused, reset, timed out)."""


class CrierAPIError(CrierError):
    """Crier answered with an error status; the envelope's fields are attributes."""

    status: int
    code: str
    message: str
    request_id: str | None
    details: dict[str, Any]

    def __init__(
        self,
        *,
        status: int,
        code: str,
        message: str,
        request_id: str | None,
        details: dict[str, Any],
        headers: httpx.Headers | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" (requestId {request_id})" if request_id else ""))
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.details = details
        self.headers = headers or httpx.Headers()


class BadRequestError(CrierAPIError):
    """400."""


class AuthenticationError(CrierAPIError):
    """401 UNAUTHORIZED: missing, unknown or revoked key."""


class PermissionDeniedError(CrierAPIError):
    """403."""


class ForbiddenScopeError(PermissionDeniedError):
    """403 FORBIDDEN_SCOPE: the key lacks `details.requiredScope`."""


class ApprovalRequiredError(PermissionDeniedError):
    """403 APPROVAL_REQUIRED: approve the container, then publish again."""


class ReturnUrlNotAllowedError(PermissionDeniedError):
    """403 RETURN_URL_NOT_ALLOWED: the returnUrl's host is not on the key's allowed return hosts."""


class NotFoundError(CrierAPIError):
    """404 NOT_FOUND (also what another organization's ids answer)."""


class ConflictError(CrierAPIError):
    """409."""


class ContentRejectedError(ConflictError):
    """409 CONTENT_REJECTED."""


class DuplicateIdError(ConflictError):
    """409 CONFLICT_DUPLICATE_ID: a partner-chosen scheduledPostId already exists."""


class IdempotencyInFlightError(ConflictError):
    """409 IDEMPOTENCY_IN_FLIGHT: the first request with this key is still running."""


class PayloadTooLargeError(CrierAPIError):
    """413 PAYLOAD_TOO_LARGE."""


class UnprocessableEntityError(CrierAPIError):
    """422: VALIDATION (with `details["errors"]`), VALIDATION_FAILED and friends."""


class IdempotencyKeyReusedError(UnprocessableEntityError):
    """422 IDEMPOTENCY_KEY_REUSED: same key, different body."""


class NotPublishReadyError(UnprocessableEntityError):
    """422 SOCIAL_ACCOUNT_NOT_PUBLISH_READY (`details.socialAccountId`, `details.mode`)."""


class RateLimitError(CrierAPIError):
    """429 RATE_LIMITED (after the SDK's own bounded retries)."""


class InternalServerError(CrierAPIError):
    """5xx other than 503."""


class ServiceUnavailableError(CrierAPIError):
    """503 UNAVAILABLE (after the SDK's own bounded retries)."""


_BY_CODE: dict[str, type[CrierAPIError]] = {
    "FORBIDDEN_SCOPE": ForbiddenScopeError,
    "APPROVAL_REQUIRED": ApprovalRequiredError,
    "RETURN_URL_NOT_ALLOWED": ReturnUrlNotAllowedError,
    "CONTENT_REJECTED": ContentRejectedError,
    "CONFLICT_DUPLICATE_ID": DuplicateIdError,
    "IDEMPOTENCY_IN_FLIGHT": IdempotencyInFlightError,
    "IDEMPOTENCY_KEY_REUSED": IdempotencyKeyReusedError,
    "SOCIAL_ACCOUNT_NOT_PUBLISH_READY": NotPublishReadyError,
}
_BY_STATUS: dict[int, type[CrierAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def error_from_response(response: httpx.Response) -> CrierAPIError:
    """The typed error for an error answer; a body that is not the envelope still gives a typed error."""
    try:
        envelope = response.json()["error"]
        code, message = str(envelope["code"]), str(envelope.get("message", ""))
        request_id, details = envelope.get("requestId"), envelope.get("details") or {}
    except (ValueError, KeyError, TypeError):
        code, message = f"HTTP_{response.status_code}", response.text[:500]
        request_id, details = response.headers.get("x-request-id"), {}
    status = response.status_code
    cls = (
        _BY_CODE.get(code)
        or _BY_STATUS.get(status)
        or (InternalServerError if status >= 500 else CrierAPIError)
    )
    return cls(
        status=status,
        code=code,
        message=message,
        request_id=request_id,
        details=details,
        headers=response.headers,
    )
