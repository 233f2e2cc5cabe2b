"""Instagram draft by SMS (Twilio) against respx mocks of PLATFORMS.md §3."""

from __future__ import annotations

import base64
from unittest.mock import ANY
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from crier.platforms.base import OutcomeKind
from crier.platforms.sms import SmsDraftAdapter
from tests.platforms.support import TWILIO_BASE, FakeJournal, assert_kind, job, settings

pytestmark = pytest.mark.asyncio

MESSAGES = "/2010-04-01/Accounts/AC123/Messages.json"
PHONE = "+15551234567"


def twilio_error(code: int, status: int, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        headers=headers,
        json={
            "code": code,
            "message": f"twilio {code}",
            "more_info": "https://www.twilio.com/docs/errors",
            "status": status,
        },
    )


@pytest.fixture
def twilio():
    with respx.mock(base_url=TWILIO_BASE, assert_all_called=False) as router:
        yield router.post(MESSAGES).mock(
            return_value=httpx.Response(201, json={"sid": "SM1", "status": "queued"})
        )


@pytest.fixture
async def adapter():
    async with httpx.AsyncClient() as http:
        yield SmsDraftAdapter(http=http, settings=settings())


def draft(**overrides):
    return job("instagram", "draft", "multi", **{"operator_phone": PHONE, **overrides})


async def test_sends_media_and_caption_to_the_operator_and_ends_draft(twilio, adapter):
    journal = FakeJournal()
    done = await adapter.advance(draft(), journal)

    assert (done.kind, done.status, done.external_id) == (OutcomeKind.DONE, "draft", "SM1")
    request = twilio.calls[0].request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"AC123:tw-secret").decode()
    form = parse_qs(request.content.decode())
    assert form["To"] == [PHONE] and form["From"] == ["+15550000000"]
    assert form["MediaUrl"] == ["https://cdn.test/a.jpg", "https://cdn.test/b.jpg"]
    assert form["Body"][0].endswith("Hello world #crier") and "@creator" in form["Body"][0]
    assert journal.writes == [{"sms_sent": True, "sms_sent_at": ANY}, {"sms_sid": "SM1"}]


async def test_no_verified_operator_phone_fails_without_calling_twilio(twilio, adapter):
    outcome = await adapter.advance(draft(operator_phone=None), FakeJournal())
    assert_kind(outcome, OutcomeKind.TERMINAL, "NO_VERIFIED_OPERATOR_PHONE")
    assert outcome.error.platform == "instagram" and twilio.call_count == 0


async def test_long_caption_and_many_media_fit_twilio_limits(twilio, adapter):
    urls = [f"https://cdn.test/{n}.jpg" for n in range(12)]
    await adapter.advance(draft(caption="y" * 3000, media_urls=urls), FakeJournal())
    form = parse_qs(twilio.calls[0].request.content.decode())
    assert len(form["Body"][0]) == 1600 and len(form["MediaUrl"]) == 10
    assert "first 10 of 12" in form["Body"][0]


@pytest.mark.parametrize(
    "answer", [twilio_error(20429, 429, {"Retry-After": "3"}), httpx.ConnectError("down")]
)
async def test_refused_before_sending_is_retryable_and_may_send_again(twilio, adapter, answer):
    twilio.mock(side_effect=[answer, httpx.Response(201, json={"sid": "SM2"})])
    journal = FakeJournal()
    first = await adapter.advance(draft(), journal)
    assert_kind(first, OutcomeKind.RETRYABLE)
    assert journal.handles["sms_sent"] is False
    assert (await adapter.advance(draft(), journal)).external_id == "SM2"
    assert twilio.call_count == 2


async def test_rate_limit_carries_retry_after(twilio, adapter):
    twilio.mock(return_value=twilio_error(20429, 429, {"Retry-After": "3"}))
    outcome = await adapter.advance(draft(), FakeJournal())
    assert_kind(outcome, OutcomeKind.RETRYABLE, "TWILIO_20429")
    assert outcome.retry_after == 3.0


@pytest.mark.parametrize(("code", "status"), [(21211, 400), (21610, 400), (20003, 401)])
async def test_bad_number_unsubscribed_and_auth_are_terminal(twilio, adapter, code, status):
    twilio.mock(return_value=twilio_error(code, status))
    outcome = await adapter.advance(draft(), FakeJournal())
    assert_kind(outcome, OutcomeKind.TERMINAL, f"TWILIO_{code}")
    assert "tw-secret" not in outcome.error.message


async def test_journaled_sid_is_done_without_sending(twilio, adapter):
    done = await adapter.advance(draft(), FakeJournal(sms_sent=True, sms_sid="SM9"))
    assert done.external_id == "SM9" and twilio.call_count == 0
