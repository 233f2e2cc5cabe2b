"""TikTok's limits in the adapter (PLATFORMS.md §7): paced calls, deferral, caps learned from spam_risk_*."""

from __future__ import annotations

import httpx
import pytest
import respx

from crier.platforms.base import OutcomeKind, QuotaState
from crier.platforms.tiktok import TikTokAdapter
from tests.platforms.support import TIKTOK_BASE, FakeJournal, assert_kind, job, settings

pytestmark = pytest.mark.asyncio

CREATOR = "/v2/post/publish/creator_info/query/"
VIDEO_INIT = "/v2/post/publish/video/init/"
STATUS = "/v2/post/publish/status/fetch/"


def ok(data: dict) -> httpx.Response:
    return httpx.Response(200, json={"data": data, "error": {"code": "ok", "message": "", "log_id": "L"}})


@pytest.fixture
def tiktok():
    with respx.mock(base_url=TIKTOK_BASE, assert_all_called=False) as router:
        router.post(CREATOR).mock(
            return_value=ok({"creator_username": "creator", "privacy_level_options": ["PUBLIC_TO_EVERYONE"]})
        )
        yield router


@pytest.fixture
async def adapter():
    async with httpx.AsyncClient() as http:
        yield TikTokAdapter(http=http, settings=settings(pacing_inline_wait_seconds=1.0))


async def test_no_init_slot_soon_defers_the_post_before_any_call(tiktok, adapter):
    init = tiktok.post(VIDEO_INIT)
    journal = FakeJournal()
    journal.ledger.waits["tiktok.init"] = [40.0]

    outcome = await adapter.advance(job(), journal)

    assert_kind(outcome, OutcomeKind.DEFERRED, "QUOTA_DEFERRED")
    assert outcome.retry_after == 39.5 and "tiktok.init" in outcome.error.message  # back just before its slot
    assert init.call_count == 0 and "tiktok_init_sent" not in journal.handles
    assert tiktok.routes[0].call_count == 0  # not even creator_info


async def test_the_init_slot_is_looked_at_first_and_taken_right_before_the_init(tiktok, adapter):
    tiktok.post(VIDEO_INIT).mock(return_value=ok({"publish_id": "v1"}))
    journal = FakeJournal()

    assert_kind(await adapter.advance(job(), journal), OutcomeKind.PROCESSING)

    assert journal.ledger.paced == ["look:tiktok.init", "tiktok.creator_info", "tiktok.init"]
    assert journal.ledger.sent_log == ["tiktok.direct_posts"]


async def test_a_short_wait_is_slept_in_place_and_the_call_goes(tiktok, adapter):
    init = tiktok.post(VIDEO_INIT).mock(return_value=ok({"publish_id": "v1"}))
    journal = FakeJournal()
    journal.ledger.waits["tiktok.init"] = [0.05, 0.05]

    assert_kind(await adapter.advance(job(), journal), OutcomeKind.PROCESSING)
    assert init.call_count == 1


async def test_a_status_poll_without_a_slot_waits_as_processing_never_deferred(tiktok, adapter):
    poll = tiktok.post(STATUS)
    journal = FakeJournal(tiktok_init_sent=True, tiktok_publish_id="v1")
    journal.ledger.waits["tiktok.status"] = [12.0]

    outcome = await adapter.advance(job(), journal)

    assert_kind(outcome, OutcomeKind.PROCESSING)
    assert outcome.retry_after == 12.0 and poll.call_count == 0


@pytest.mark.parametrize(
    ("code", "mode", "cap"),
    [
        ("spam_risk_too_many_posts", "publish", "tiktok.direct_posts"),
        ("spam_risk_too_many_pending_share", "draft", "tiktok.inbox_shares"),
    ],
)
async def test_a_spam_risk_refusal_teaches_the_cap_and_defers_instead_of_failing(
    tiktok, adapter, code, mode, cap
):
    for path in (VIDEO_INIT, "/v2/post/publish/inbox/video/init/"):
        tiktok.post(path).mock(
            return_value=httpx.Response(
                403, json={"data": {}, "error": {"code": code, "message": "no", "log_id": "L"}}
            )
        )
    journal = FakeJournal()
    journal.ledger.sent_log = [cap] * 3  # Crier sent three today

    outcome = await adapter.advance(job(mode=mode), journal)

    assert_kind(outcome, OutcomeKind.DEFERRED, "QUOTA_DEFERRED")
    learned = journal.ledger.quotas[cap]
    assert (learned.limit, learned.source, learned.window_seconds) == (3, "learned", 86400.0)
    assert journal.handles["tiktok_init_sent"] is False  # refused: no copy, safe to send later


async def test_a_learned_cap_that_is_full_defers_without_calling_tiktok(tiktok, adapter):
    init = tiktok.post(VIDEO_INIT)
    journal = FakeJournal()
    journal.ledger.sent_log = ["tiktok.direct_posts"] * 2
    journal.ledger.quotas["tiktok.direct_posts"] = QuotaState(
        limit=2, used=2, window_seconds=86400.0, source="learned", age_seconds=5.0, resets_in_seconds=3000.0
    )

    outcome = await adapter.advance(job(), journal)

    assert_kind(outcome, OutcomeKind.DEFERRED, "QUOTA_DEFERRED")
    assert init.call_count == 0 and journal.ledger.paced == []
