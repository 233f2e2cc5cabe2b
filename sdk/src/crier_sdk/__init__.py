"""Python client for Crier's partner API (Layers-compatible): sync `Crier` and async `AsyncCrier`."""

from crier_sdk._async_client import AsyncCrier
from crier_sdk._http import OMIT
from crier_sdk._http import VERSION as __version__
from crier_sdk._sync_client import Crier
from crier_sdk.errors import (
    ApprovalRequiredError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContentRejectedError,
    CrierAPIError,
    CrierConnectionError,
    CrierError,
    DuplicateIdError,
    ForbiddenScopeError,
    IdempotencyInFlightError,
    IdempotencyKeyReusedError,
    InternalServerError,
    NotFoundError,
    NotPublishReadyError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ReturnUrlNotAllowedError,
    ServiceUnavailableError,
    UnprocessableEntityError,
)
from crier_sdk.models import Media, Target, TiktokMusic, TiktokPostSettings
from crier_sdk.webhooks import WebhookSignatureError, parse_event, sign, verify_signature

__all__ = [
    "OMIT",
    "ApprovalRequiredError",
    "AsyncCrier",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ContentRejectedError",
    "Crier",
    "CrierAPIError",
    "CrierConnectionError",
    "CrierError",
    "DuplicateIdError",
    "ForbiddenScopeError",
    "IdempotencyInFlightError",
    "IdempotencyKeyReusedError",
    "InternalServerError",
    "Media",
    "NotFoundError",
    "NotPublishReadyError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReturnUrlNotAllowedError",
    "ServiceUnavailableError",
    "Target",
    "TiktokMusic",
    "TiktokPostSettings",
    "UnprocessableEntityError",
    "WebhookSignatureError",
    "__version__",
    "parse_event",
    "sign",
    "verify_signature",
]
