"""Reconciliation of lost answers (PLATFORMS.md §6) in each adapter, against respx mocks.

Every path: found → settled with the platform's ids; proven absent after the window → the call is
made exactly once more; neither within the bound → failed OUTCOME_UNKNOWN. Never a second call while
the outcome is unknown.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from crier.platforms.base import OutcomeKind
from crier.platforms.instagram import InstagramAdapter
from crier.platforms.sms import SmsDraftAdapter, message_body
from crier.platforms.tiktok import TikTokAdapter
from tests.platforms.support import (
    GRAPH_BASE,
    IG_USER,
    TIKTOK_BASE,
    TWILIO_BASE,
    FakeJournal,
    assert_kind,
    job,
    settings,
    with_account,
)

pytestmark = pytest.mark.asyncio

VIDEO_LIST = "/v2/video/list/"
CREATOR = "/v2/post/publish/creator_info/query/"
VIDEO_INIT = "/v2/post/publish/video/init/"
MESSAGES = "/2010-04-01/Accounts/AC123/Messages.json"
CONTAINER, MEDIA = "17889455560051444", "17920238422030506"
PHONE = "+15551234567"
CAPTION = "Hello world #crier"
WINDOW = 60.0


def ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat()


def tiktok_ok(data: dict) -> httpx.Response:
    return httpx.Response(200, json={"data": data, "error": {"code": "ok", "message": "", "log_id": "L"}})


def videos(*items: dict, has_more: bool = False) -> httpx.Response:
    return tiktok_ok({"videos": list(items), "cursor": 0, "has_more": has_more})


def video(title: str, created_seconds_ago: float, video_id: str = "7291234567890123999") -> dict:
    created = int((datetime.now(UTC) - timedelta(seconds=created_seconds_ago)).timestamp())
    return {
        "id": video_id,
        "title": title,
        "create_time": created,
        "share_url": f"https://www.tiktok.com/@creator/video/{video_id}",
    }


def tiktok_job(**overrides):
    return with_account(job(**overrides), granted_scopes=["video.publish", "video.list"])


def lost_init(sent_seconds_ago: float, **extra) -> FakeJournal:
    return FakeJournal(tiktok_init_sent=True, tiktok_init_sent_at=ago(sent_seconds_ago), **extra)


@pytest.fixture
def tiktok():
    with respx.mock(base_url=TIKTOK_BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


# --- TikTok: the creator's video list -------------------------------------------------------------


async def test_tiktok_lost_init_found_in_the_video_list_is_published_with_its_id(tiktok, http):
    listing = tiktok.post(VIDEO_LIST).mock(
        return_value=videos(video("older post", 3600, "1"), video(CAPTION, 5))
    )
    init = tiktok.post(VIDEO_INIT)
    journal = lost_init(10)
    adapter = TikTokAdapter(http=http, settings=settings(reconcile_window_seconds=WINDOW))

    done = await adapter.advance(tiktok_job(), journal)

    assert (done.status, done.external_id) == ("published", "7291234567890123999")
    assert done.external_url == "https://www.tiktok.com/@creator/video/7291234567890123999"
    assert init.call_count == 0
    assert listing.calls[0].request.url.params["fields"] == "id,title,create_time,share_url"
    assert json.loads(listing.calls[0].request.content) == {"max_count": 20}
    assert journal.handles["reconcile_result"] == "found" and journal.handles["reconcile_started_at"] is None


async def test_tiktok_nothing_listed_within_the_window_stays_publishing_with_outcome_unknown(tiktok, http):
    tiktok.post(VIDEO_LIST).mock(return_value=videos(video("older post", 3600)))
    init = tiktok.post(VIDEO_INIT)
    journal = lost_init(5)
    adapter = TikTokAdapter(http=http, settings=settings(reconcile_window_seconds=WINDOW))

    waiting = await adapter.advance(tiktok_job(), journal)

    assert_kind(waiting, OutcomeKind.PROCESSING, "OUTCOME_UNKNOWN")
    assert "TikTok init" in waiting.error.message and "reconciling since" in waiting.error.message
    assert journal.handles["reconcile_step"] == "TikTok init" and journal.handles["reconcile_started_at"]
    assert init.call_count == 0


async def test_tiktok_proven_absent_after_the_window_inits_exactly_once_more(tiktok, http):
    tiktok.post(VIDEO_LIST).mock(return_value=videos(video("older post", 3600)))
    tiktok.post(CREATOR).mock(
        return_value=tiktok_ok(
            {"creator_username": "creator", "privacy_level_options": ["PUBLIC_TO_EVERYONE"]}
        )
    )
    init = tiktok.post(VIDEO_INIT).mock(return_value=tiktok_ok({"publish_id": "v_pub_url~v2.2"}))
    journal = lost_init(WINDOW + 5)
    adapter = TikTokAdapter(http=http, settings=settings(reconcile_window_seconds=WINDOW))

    outcome = await adapter.advance(tiktok_job(), journal)

    assert_kind(outcome, OutcomeKind.PROCESSING)
    assert init.call_count == 1 and journal.handles["tiktok_publish_id"] == "v_pub_url~v2.2"
    assert journal.handles["reconcile_result"] == "absent" and journal.handles["reconcile_recalls"] == 1


async def test_tiktok_second_proven_absence_fails_safely_instead_of_a_third_init(tiktok, http):
    tiktok.post(VIDEO_LIST).mock(return_value=videos())
    init = tiktok.post(VIDEO_INIT)
    journal = lost_init(WINDOW + 5, reconcile_recalls=1)
    adapter = TikTokAdapter(http=http, settings=settings(reconcile_window_seconds=WINDOW))

    assert_kind(await adapter.advance(tiktok_job(), journal), OutcomeKind.TERMINAL, "RECONCILED_ABSENT")
    assert init.call_count == 0


async def test_tiktok_unsettled_past_the_bound_fails_outcome_unknown(tiktok, http):
    init = tiktok.post(VIDEO_INIT)
    journal = lost_init(1000, reconcile_started_at=ago(1000))
    adapter = TikTokAdapter(
        http=http, settings=settings(reconcile_window_seconds=WINDOW, reconcile_max_seconds=300)
    )
    # the list keeps saying has_more with nothing older than the intent: absence is never proven
    tiktok.post(VIDEO_LIST).mock(return_value=videos(*(video(f"p{i}", 1) for i in range(20)), has_more=True))

    outcome = await adapter.advance(tiktok_job(), journal)

    assert_kind(outcome, OutcomeKind.TERMINAL, "OUTCOME_UNKNOWN")
    assert journal.handles["reconcile_result"] == "unknown" and init.call_count == 0


async def test_tiktok_server_error_on_the_list_keeps_waiting_within_the_bound(tiktok, http):
    tiktok.post(VIDEO_LIST).mock(return_value=httpx.Response(500))
    init = tiktok.post(VIDEO_INIT)
    adapter = TikTokAdapter(http=http, settings=settings(reconcile_window_seconds=WINDOW))

    outcome = await adapter.advance(tiktok_job(), lost_init(WINDOW + 5))

    assert_kind(outcome, OutcomeKind.PROCESSING, "OUTCOME_UNKNOWN")
    assert init.call_count == 0


@pytest.mark.parametrize(
    ("delivery", "why"),
    [
        (job(), "video.list"),
        (tiktok_job(mode="draft"), "inbox drafts"),
        (tiktok_job(tiktok_post_settings={"privacyLevel": "SELF_ONLY"}), "SELF_ONLY"),
    ],
    ids=["no-video-list-scope", "draft", "self-only"],
)
async def test_tiktok_outcomes_the_list_cannot_show_fail_outcome_unknown_at_once(tiktok, http, delivery, why):
    listing, init = tiktok.post(VIDEO_LIST), tiktok.post(VIDEO_INIT)
    adapter = TikTokAdapter(http=http, settings=settings())

    outcome = await adapter.advance(delivery, lost_init(5))

    assert_kind(outcome, OutcomeKind.TERMINAL, "OUTCOME_UNKNOWN")
    assert why in outcome.error.message
    assert listing.call_count == 0 and init.call_count == 0


async def test_tiktok_ok_init_without_publish_id_enters_reconciliation(tiktok, http):
    tiktok.post(CREATOR).mock(return_value=tiktok_ok({"creator_username": "creator"}))
    init = tiktok.post(VIDEO_INIT).mock(return_value=tiktok_ok({}))
    journal = FakeJournal()
    adapter = TikTokAdapter(http=http, settings=settings())

    assert_kind(await adapter.advance(tiktok_job(), journal), OutcomeKind.PROCESSING, "OUTCOME_UNKNOWN")
    assert journal.handles["tiktok_init_sent"] is True and init.call_count == 1


# --- Instagram: the account's media list ----------------------------------------------------------


@pytest.fixture
def graph():
    with respx.mock(base_url=GRAPH_BASE, assert_all_called=False) as router:
        router.get(f"/{IG_USER}/content_publishing_limit").mock(
            return_value=httpx.Response(
                200,
                json={"data": [{"quota_usage": 0, "config": {"quota_total": 50, "quota_duration": 86400}}]},
            )
        )
        yield router


def unreadable_container(graph) -> None:
    graph.get(f"/{CONTAINER}").mock(
        return_value=httpx.Response(
            400,
            json={
                "error": {"message": "gone", "type": "OAuthException", "code": 100, "error_subcode": 2207001}
            },
        )
    )


def media_list(*items: dict) -> httpx.Response:
    return httpx.Response(200, json={"data": list(items), "paging": {"cursors": {}}})


def ig_media(caption: str, seconds_ago: float, media_id: str = MEDIA) -> dict:
    stamp = (datetime.now(UTC) - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    return {"id": media_id, "caption": caption, "timestamp": stamp}


def lost_publish(sent_seconds_ago: float, **extra) -> FakeJournal:
    return FakeJournal(
        ig_container_id=CONTAINER, ig_publish_sent=True, ig_publish_sent_at=ago(sent_seconds_ago), **extra
    )


async def test_instagram_lost_publish_found_in_the_media_list_is_published(graph, http):
    unreadable_container(graph)
    graph.get(f"/{IG_USER}/media").mock(return_value=media_list(ig_media(CAPTION, 3)))
    graph.get(f"/{MEDIA}").mock(return_value=httpx.Response(200, json={"permalink": "https://ig/p/x/"}))
    publish = graph.post(f"/{IG_USER}/media_publish")
    journal = lost_publish(10)
    adapter = InstagramAdapter(http=http, settings=settings(reconcile_window_seconds=WINDOW))

    done = await adapter.advance(job("instagram", media_type="image"), journal)

    assert (done.status, done.external_id, done.external_url) == ("published", MEDIA, "https://ig/p/x/")
    assert publish.call_count == 0 and journal.handles["reconcile_result"] == "found"


async def test_instagram_media_older_than_the_intent_does_not_count_and_the_post_waits(graph, http):
    unreadable_container(graph)
    graph.get(f"/{IG_USER}/media").mock(return_value=media_list(ig_media(CAPTION, 7200)))
    publish = graph.post(f"/{IG_USER}/media_publish")
    adapter = InstagramAdapter(http=http, settings=settings(reconcile_window_seconds=WINDOW))

    outcome = await adapter.advance(job("instagram", media_type="image"), lost_publish(10))

    assert_kind(outcome, OutcomeKind.PROCESSING, "OUTCOME_UNKNOWN")
    assert publish.call_count == 0


async def test_instagram_proven_absent_publishes_a_fresh_container_exactly_once_more(graph, http):
    unreadable_container(graph)
    graph.get(f"/{IG_USER}/media").mock(return_value=media_list())
    create = graph.post(f"/{IG_USER}/media").mock(return_value=httpx.Response(200, json={"id": "c2"}))
    graph.get("/c2").mock(return_value=httpx.Response(200, json={"status_code": "FINISHED"}))
    publish = graph.post(f"/{IG_USER}/media_publish").mock(
        return_value=httpx.Response(200, json={"id": "m2"})
    )
    graph.get("/m2").mock(return_value=httpx.Response(200, json={"permalink": "https://ig/p/m2/"}))
    journal = lost_publish(WINDOW + 5)
    adapter = InstagramAdapter(http=http, settings=settings(reconcile_window_seconds=WINDOW))

    done = await adapter.advance(job("instagram", media_type="image"), journal)

    assert (done.status, done.external_id) == ("published", "m2")
    assert create.call_count == 1 and publish.call_count == 1
    assert journal.handles["reconcile_result"] == "absent" and journal.handles["ig_container_id"] == "c2"


async def test_instagram_unsettled_past_the_bound_fails_outcome_unknown(graph, http):
    unreadable_container(graph)
    graph.get(f"/{IG_USER}/media").mock(return_value=httpx.Response(500))
    publish = graph.post(f"/{IG_USER}/media_publish")
    journal = lost_publish(1000, reconcile_started_at=ago(1000))
    adapter = InstagramAdapter(
        http=http, settings=settings(reconcile_window_seconds=WINDOW, reconcile_max_seconds=300)
    )

    outcome = await adapter.advance(job("instagram", media_type="image"), journal)

    assert_kind(outcome, OutcomeKind.TERMINAL, "OUTCOME_UNKNOWN")
    assert publish.call_count == 0


# --- Twilio: the message list ---------------------------------------------------------------------


@pytest.fixture
def twilio():
    with respx.mock(base_url=TWILIO_BASE, assert_all_called=False) as router:
        yield router


def sms_job():
    return job("instagram", "draft", "multi", operator_phone=PHONE)


def message(body: str, seconds_ago: float, sid: str = "SM7") -> dict:
    created = format_datetime(datetime.now(UTC) - timedelta(seconds=seconds_ago), usegmt=True)
    return {"sid": sid, "to": PHONE, "body": body, "date_created": created, "date_sent": None}


def lost_sms(sent_seconds_ago: float, **extra) -> FakeJournal:
    return FakeJournal(sms_sent=True, sms_sent_at=ago(sent_seconds_ago), **extra)


async def test_twilio_lost_send_found_by_to_and_body_is_a_draft(twilio, http):
    listing = twilio.get(MESSAGES).mock(
        return_value=httpx.Response(
            200,
            json={
                "messages": [message("other text", 2, "SM1"), message(message_body(sms_job()), 2)],
                "next_page_uri": None,
            },
        )
    )
    send = twilio.post(MESSAGES)
    adapter = SmsDraftAdapter(http=http, settings=settings(reconcile_window_seconds=WINDOW))

    done = await adapter.advance(sms_job(), lost_sms(5))

    assert (done.status, done.external_id) == ("draft", "SM7")
    assert send.call_count == 0
    params = listing.calls[0].request.url.params
    assert params["To"] == PHONE and "DateSent>=" in params


async def test_twilio_proven_absent_sends_exactly_once_more(twilio, http):
    twilio.get(MESSAGES).mock(return_value=httpx.Response(200, json={"messages": [], "next_page_uri": None}))
    send = twilio.post(MESSAGES).mock(return_value=httpx.Response(201, json={"sid": "SM2"}))
    journal = lost_sms(WINDOW + 5)
    adapter = SmsDraftAdapter(http=http, settings=settings(reconcile_window_seconds=WINDOW))

    done = await adapter.advance(sms_job(), journal)

    assert (done.status, done.external_id) == ("draft", "SM2")
    assert send.call_count == 1 and journal.handles["reconcile_result"] == "absent"


async def test_twilio_nothing_yet_within_the_window_waits_without_sending(twilio, http):
    twilio.get(MESSAGES).mock(return_value=httpx.Response(200, json={"messages": [], "next_page_uri": None}))
    send = twilio.post(MESSAGES)
    adapter = SmsDraftAdapter(http=http, settings=settings(reconcile_window_seconds=WINDOW))

    assert_kind(await adapter.advance(sms_job(), lost_sms(5)), OutcomeKind.PROCESSING, "OUTCOME_UNKNOWN")
    assert send.call_count == 0


async def test_twilio_lookup_refused_fails_outcome_unknown_without_sending(twilio, http):
    twilio.get(MESSAGES).mock(
        return_value=httpx.Response(401, json={"code": 20003, "message": "Authenticate"})
    )
    send = twilio.post(MESSAGES)
    adapter = SmsDraftAdapter(http=http, settings=settings())

    outcome = await adapter.advance(sms_job(), lost_sms(5))

    assert_kind(outcome, OutcomeKind.TERMINAL, "OUTCOME_UNKNOWN")
    assert "TWILIO_20003" in outcome.error.message and send.call_count == 0
