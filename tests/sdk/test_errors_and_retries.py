"""Typed errors from the envelope; 429/503 retried as Retry-After says, bounded, with one Idempotency-Key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from crier_sdk import (
    ApprovalRequiredError,
    AuthenticationError,
    ConflictError,
    Crier,
    CrierAPIError,
    CrierConnectionError,
    DuplicateIdError,
    ForbiddenScopeError,
    IdempotencyKeyReusedError,
    InternalServerError,
    NotFoundError,
    NotPublishReadyError,
    RateLimitError,
    ServiceUnavailableError,
    UnprocessableEntityError,
)
from tests.sdk import wire_examples as ex
from tests.sdk.support import BASE, resolve

PUBLISH = f"/v1/content/{ex.CONTAINER_ID}/publish"
TARGETS = [{"socialAccountId": ex.ACCOUNT_ID, "mode": "publish"}]


def publish(sdk):
    return resolve(sdk.publishing.publish_now(container_id=ex.CONTAINER_ID, targets=TARGETS))


@pytest.mark.parametrize(
    ("status", "code", "details", "error_class"),
    [
        (401, "UNAUTHORIZED", {}, AuthenticationError),
        (403, "FORBIDDEN_SCOPE", {"requiredScope": "publish:write"}, ForbiddenScopeError),
        (403, "APPROVAL_REQUIRED", {"approvalStatus": "pending"}, ApprovalRequiredError),
        (404, "NOT_FOUND", {"socialAccountId": ex.ACCOUNT_ID}, NotFoundError),
        (409, "CONFLICT", {"status": "generating"}, ConflictError),
        (409, "CONFLICT_DUPLICATE_ID", {"scheduledPostId": ex.POST_ID}, DuplicateIdError),
        (
            422,
            "VALIDATION",
            {"errors": [{"path": "body.targets", "message": "at least 1 item"}]},
            UnprocessableEntityError,
        ),
        (422, "IDEMPOTENCY_KEY_REUSED", {}, IdempotencyKeyReusedError),
        (
            422,
            "SOCIAL_ACCOUNT_NOT_PUBLISH_READY",
            {"socialAccountId": ex.ACCOUNT_ID, "mode": "publish"},
            NotPublishReadyError,
        ),
        (500, "INTERNAL", {}, InternalServerError),
    ],
)
async def test_an_error_answer_raises_its_typed_error_with_the_envelope(
    sdk, status, code, details, error_class
):
    with respx.mock(base_url=BASE) as mock:
        mock.post(PUBLISH).respond(status, json=ex.envelope(code, "it went wrong", details))

        with pytest.raises(error_class) as raised:
            await publish(sdk)

    error = raised.value
    assert (error.status, error.code, error.message, error.request_id, error.details) == (
        status,
        code,
        "it went wrong",
        "req_0123456789abcdef",
        details,
    )
    assert "req_0123456789abcdef" in str(error)


async def test_an_answer_that_is_not_the_envelope_still_raises_a_typed_error(sdk):
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/v1/content/{ex.CONTAINER_ID}").respond(
            502, text="<html>bad gateway</html>", headers={"X-Request-Id": "req_proxy"}
        )

        with pytest.raises(CrierAPIError) as raised:
            await resolve(sdk.content.get(ex.CONTAINER_ID))

    assert (raised.value.status, raised.value.code, raised.value.request_id) == (502, "HTTP_502", "req_proxy")


async def test_a_refused_connection_is_a_connection_error(sdk):
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/v1/content/{ex.CONTAINER_ID}").mock(side_effect=httpx.ConnectError("refused"))

        with pytest.raises(CrierConnectionError):
            await resolve(sdk.content.get(ex.CONTAINER_ID))


@pytest.mark.parametrize("status", [429, 503])
async def test_429_and_503_are_retried_with_the_same_idempotency_key(sdk, status):
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(PUBLISH).mock(
            side_effect=[
                httpx.Response(
                    status,
                    json=ex.envelope("RATE_LIMITED" if status == 429 else "UNAVAILABLE"),
                    headers={"Retry-After": "0"},
                ),
                httpx.Response(200, json={"scheduledPostIds": [ex.POST_ID]}),
            ]
        )

        result = await publish(sdk)

    assert result.scheduled_post_ids == [ex.POST_ID]
    first, second = (call.request.headers["idempotency-key"] for call in route.calls)
    assert first == second


async def test_an_in_flight_first_try_is_waited_for_with_the_same_key(sdk):
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(PUBLISH).mock(
            side_effect=[
                httpx.Response(409, json=ex.envelope("IDEMPOTENCY_IN_FLIGHT"), headers={"Retry-After": "0"}),
                httpx.Response(
                    200, json={"scheduledPostIds": [ex.POST_ID]}, headers={"Idempotent-Replayed": "true"}
                ),
            ]
        )

        await publish(sdk)

    assert route.call_count == 2


async def test_retries_are_bounded_then_the_typed_error_is_raised(sdk):
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(PUBLISH).respond(
            429, json=ex.envelope("RATE_LIMITED"), headers={"Retry-After": "0"}
        )

        with pytest.raises(RateLimitError):
            await publish(sdk)

    assert route.call_count == 1 + sdk.max_retries


async def test_a_retry_after_longer_than_the_bound_raises_at_once(sdk):
    with respx.mock(base_url=BASE) as mock:
        route = mock.get(f"/v1/content/{ex.CONTAINER_ID}").respond(
            503, json=ex.envelope("UNAVAILABLE"), headers={"Retry-After": "3600"}
        )

        with pytest.raises(ServiceUnavailableError):
            await resolve(sdk.content.get(ex.CONTAINER_ID))

    assert route.call_count == 1


async def test_retry_after_as_an_http_date_is_honoured(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("crier_sdk._sync_client.time.sleep", slept.append)
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    with respx.mock(base_url=BASE) as mock, Crier("k", base_url=BASE, max_retry_wait=30) as sdk:
        mock.get(f"/v1/content/{ex.CONTAINER_ID}").mock(
            side_effect=[
                httpx.Response(503, json=ex.envelope("UNAVAILABLE"), headers={"Retry-After": soon}),
                httpx.Response(200, json=ex.CONTAINER),
            ]
        )

        sdk.content.get(ex.CONTAINER_ID)

    assert len(slept) == 1 and 15 < slept[0] <= 20


async def test_without_retry_after_the_wait_grows(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("crier_sdk._sync_client.time.sleep", slept.append)
    with respx.mock(base_url=BASE) as mock, Crier("k", base_url=BASE, max_retries=3) as sdk:
        mock.get(f"/v1/content/{ex.CONTAINER_ID}").respond(503, json=ex.envelope("UNAVAILABLE"))

        with pytest.raises(ServiceUnavailableError):
            sdk.content.get(ex.CONTAINER_ID)

    assert slept == [0.5, 1.0, 2.0]


@pytest.mark.parametrize("status", [400, 404, 409, 422, 500])
async def test_other_errors_are_not_retried(sdk, status):
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(PUBLISH).respond(
            status, json=ex.envelope("CONFLICT" if status == 409 else "X"), headers={"Retry-After": "0"}
        )

        with pytest.raises(CrierAPIError):
            await publish(sdk)

    assert route.call_count == 1
