"""Instagram adapter against respx mocks of PLATFORMS.md §2."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest.mock import ANY
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from crier.platforms.base import OutcomeKind
from crier.platforms.instagram import InstagramAdapter
from tests.platforms.support import (
    GRAPH_BASE,
    IG_REFRESH_BASE,
    IG_USER,
    FakeJournal,
    assert_kind,
    job,
    settings,
    with_account,
)

pytestmark = pytest.mark.asyncio

CONTAINER, MEDIA = "17889455560051444", "17920238422030506"
PERMALINK = "https://www.instagram.com/p/Cx1AbCdEfGh/"


def graph_error(
    code: int, subcode: int | None = None, message: str = "boom", status: int = 400, transient: bool = False
) -> httpx.Response:
    error = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "is_transient": transient,
        "fbtrace_id": "A1",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error})


def status_of(code: str, status: str | None = None) -> httpx.Response:
    return httpx.Response(200, json={"status_code": code, "status": status or code, "id": CONTAINER})


def form(route: respx.Route, index: int = -1) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(route.calls[index].request.content.decode()).items()}


class Graph:
    """The routes of one Instagram publish, answering success unless a test says otherwise."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.create = router.post(f"/{IG_USER}/media").mock(
            return_value=httpx.Response(200, json={"id": CONTAINER})
        )
        self.status = router.get(f"/{CONTAINER}").mock(return_value=status_of("FINISHED"))
        self.publish = router.post(f"/{IG_USER}/media_publish").mock(
            return_value=httpx.Response(200, json={"id": MEDIA})
        )
        self.read = router.get(f"/{MEDIA}").mock(
            return_value=httpx.Response(200, json={"permalink": PERMALINK, "id": MEDIA})
        )
        self.comment = router.post(f"/{MEDIA}/comments").mock(
            return_value=httpx.Response(200, json={"id": "c1"})
        )
        self.listing = router.get(f"/{IG_USER}/media")
        self.quota = router.get(f"/{IG_USER}/content_publishing_limit").mock(
            return_value=httpx.Response(
                200,
                json={"data": [{"quota_usage": 0, "config": {"quota_total": 50, "quota_duration": 86400}}]},
            )
        )


@pytest.fixture
def graph():
    with respx.mock(base_url=GRAPH_BASE, assert_all_called=False) as router:
        yield Graph(router)


@pytest.fixture
async def adapter():
    async with httpx.AsyncClient() as http:
        yield InstagramAdapter(http=http, settings=settings())


async def test_image_publishes_in_one_call_and_journals_every_handle_in_order(graph, adapter):
    journal = FakeJournal()
    done = await adapter.advance(job("instagram", media_type="image"), journal)

    assert done.kind is OutcomeKind.DONE and done.status == "published"
    assert (done.external_id, done.external_url) == (MEDIA, PERMALINK)
    assert form(graph.create) == {"image_url": "https://cdn.test/a.jpg", "caption": "Hello world #crier"}
    assert form(graph.publish) == {"creation_id": CONTAINER}
    assert graph.status.calls[0].request.url.params["fields"] == "status_code,status"
    assert graph.read.calls[0].request.url.params["fields"] == "permalink"
    assert journal.writes == [
        {"ig_container_id": CONTAINER},
        {"ig_publish_sent": True, "ig_publish_sent_at": ANY},
        {"ig_media_id": MEDIA},
    ]
    request = graph.publish.calls[0].request
    assert request.headers["Authorization"] == "Bearer at-old" and "access_token" not in str(request.url)


@pytest.mark.parametrize(("share", "expected"), [(None, "true"), (True, "true"), (False, "false")])
async def test_video_is_a_reel_with_share_to_feed(graph, adapter, share, expected):
    graph.status.mock(return_value=status_of("IN_PROGRESS"))
    journal = FakeJournal()
    outcome = await adapter.advance(job("instagram", media_type="video", share_reel_to_feed=share), journal)
    assert_kind(outcome, OutcomeKind.PROCESSING)
    assert form(graph.create) == {
        "media_type": "REELS",
        "video_url": "https://cdn.test/v.mp4",
        "caption": "Hello world #crier",
        "share_to_feed": expected,
    }
    assert graph.publish.call_count == 0 and journal.handles == {"ig_container_id": CONTAINER}


async def test_processing_container_is_polled_not_recreated(graph, adapter):
    graph.status.mock(side_effect=[status_of("IN_PROGRESS"), status_of("FINISHED")])
    journal, delivery = FakeJournal(), job("instagram", media_type="video")
    assert_kind(await adapter.advance(delivery, journal), OutcomeKind.PROCESSING)
    done = await adapter.advance(delivery, journal)
    assert done.status == "published" and graph.create.call_count == 1 and graph.publish.call_count == 1


async def test_carousel_creates_children_then_parent(graph, adapter):
    graph.create.mock(
        side_effect=[
            httpx.Response(200, json={"id": "k1"}),
            httpx.Response(200, json={"id": "k2"}),
            httpx.Response(200, json={"id": CONTAINER}),
        ]
    )
    delivery = job(
        "instagram", media_type="multi", media_urls=["https://cdn.test/a.jpg", "https://cdn.test/b.MP4?x=1"]
    )
    journal = FakeJournal()

    assert (await adapter.advance(delivery, journal)).status == "published"

    assert form(graph.create, 0) == {"is_carousel_item": "true", "image_url": "https://cdn.test/a.jpg"}
    assert form(graph.create, 1) == {
        "is_carousel_item": "true",
        "media_type": "VIDEO",
        "video_url": "https://cdn.test/b.MP4?x=1",
    }
    assert form(graph.create, 2) == {
        "media_type": "CAROUSEL",
        "children": "k1,k2",
        "caption": "Hello world #crier",
    }
    assert journal.writes[:3] == [
        {"ig_child_ids": ["k1"]},
        {"ig_child_ids": ["k1", "k2"]},
        {"ig_container_id": CONTAINER},
    ]


async def test_carousel_resumes_from_journaled_children(graph, adapter):
    graph.create.mock(
        side_effect=[httpx.Response(200, json={"id": "k2"}), httpx.Response(200, json={"id": CONTAINER})]
    )
    journal = FakeJournal(ig_child_ids=["k1"])
    await adapter.advance(job("instagram", media_type="multi"), journal)
    assert graph.create.call_count == 2 and form(graph.create)["children"] == "k1,k2"


@pytest.mark.parametrize(
    ("code", "kind"), [("ERROR", "IG_CONTAINER_ERROR"), ("EXPIRED", "IG_CONTAINER_EXPIRED")]
)
async def test_container_error_or_expiry_is_terminal(graph, adapter, code, kind):
    graph.status.mock(return_value=status_of(code, "Error: Media upload has failed with error code 2207082"))
    outcome = await adapter.advance(job("instagram", media_type="video"), FakeJournal())
    assert_kind(outcome, OutcomeKind.TERMINAL, kind)
    assert graph.publish.call_count == 0


async def test_personal_account_is_terminal_carrying_the_graph_message(graph, adapter):
    graph.create.mock(return_value=graph_error(10, message="The user is not an Instagram Business"))
    outcome = await adapter.advance(job("instagram", media_type="image"), FakeJournal())
    assert_kind(outcome, OutcomeKind.TERMINAL, "GRAPH_10")
    assert outcome.error.message == "The user is not an Instagram Business"
    assert outcome.error.platform == "instagram"


async def test_daily_publishing_cap_refusal_defers_the_post_and_clears_the_marker(graph, adapter):
    graph.publish.mock(return_value=graph_error(9, 2207042, "Application request limit reached"))
    journal = FakeJournal()
    outcome = await adapter.advance(job("instagram", media_type="image"), journal)
    assert_kind(outcome, OutcomeKind.DEFERRED, "QUOTA_DEFERRED")
    assert outcome.retry_after == 3600.0 and "content_publishing_limit" in outcome.error.message
    assert journal.handles["ig_publish_sent"] is False
    assert journal.ledger.quotas["instagram.content_publishing"].used == 50  # full, as stored


async def test_a_full_publishing_quota_defers_before_media_publish(graph, adapter):
    graph.quota.mock(
        return_value=httpx.Response(
            200, json={"data": [{"quota_usage": 25, "config": {"quota_total": 25, "quota_duration": 86400}}]}
        )
    )
    journal = FakeJournal()
    outcome = await adapter.advance(job("instagram", media_type="image"), journal)
    assert_kind(outcome, OutcomeKind.DEFERRED, "QUOTA_DEFERRED")
    assert graph.publish.call_count == 0 and "ig_publish_sent" not in journal.handles
    assert graph.quota.calls[0].request.url.params["fields"] == "quota_usage,config"


async def test_the_quota_is_asked_once_then_counted_by_crier_until_it_is_old(graph, adapter):
    journal = FakeJournal()
    await adapter.advance(job("instagram", media_type="image"), journal)
    second = FakeJournal()
    second.ledger = journal.ledger  # the same account's ledger, as PostgreSQL shares it
    await adapter.advance(job("instagram", media_type="image"), second)
    assert graph.quota.call_count == 1 and graph.publish.call_count == 2
    assert journal.ledger.quotas["instagram.content_publishing"].used == 2


@pytest.mark.parametrize(
    ("code", "subcode"),
    [
        (4, None),
        (17, None),
        (32, None),
        (613, None),
        (80002, None),
        (1, None),
        (2, None),
        (-1, 2207001),
        (-2, 2207003),
        (24, 2207008),
    ],
)
async def test_transient_graph_errors_are_retryable(graph, adapter, code, subcode):
    graph.create.mock(return_value=graph_error(code, subcode))
    outcome = await adapter.advance(job("instagram", media_type="image"), FakeJournal())
    assert_kind(outcome, OutcomeKind.RETRYABLE, f"GRAPH_{code}_{subcode}" if subcode else f"GRAPH_{code}")


@pytest.mark.parametrize(("code", "subcode"), [(9004, 2207052), (36003, 2207009), (25, 2207050), (200, None)])
async def test_bad_media_and_permission_errors_are_terminal(graph, adapter, code, subcode):
    graph.create.mock(return_value=graph_error(code, subcode))
    assert_kind(
        await adapter.advance(job("instagram", media_type="image"), FakeJournal()), OutcomeKind.TERMINAL
    )


async def test_not_ready_at_publish_keeps_polling(graph, adapter):
    graph.publish.mock(
        side_effect=[
            graph_error(9007, 2207027, "Media ID is not available"),
            httpx.Response(200, json={"id": MEDIA}),
        ]
    )
    journal = FakeJournal()
    assert_kind(await adapter.advance(job("instagram", media_type="image"), journal), OutcomeKind.PROCESSING)
    assert journal.handles["ig_publish_sent"] is False
    assert (await adapter.advance(job("instagram", media_type="image"), journal)).external_id == MEDIA


async def test_lost_publish_answer_is_settled_from_the_container_status(graph, adapter):
    graph.publish.mock(return_value=httpx.Response(500, text="oops"))
    journal, delivery = FakeJournal(), job("instagram", media_type="image", first_comment="first!")
    assert_kind(await adapter.advance(delivery, journal), OutcomeKind.RETRYABLE, "GRAPH_HTTP_500")
    assert journal.handles["ig_publish_sent"] is True and "ig_media_id" not in journal.handles

    graph.status.mock(return_value=status_of("PUBLISHED"))
    graph.listing.mock(
        return_value=httpx.Response(
            200,
            json={
                "data": [
                    {"id": "other", "caption": "something else", "timestamp": "2025-01-01T00:00:00+0000"},
                    {"id": MEDIA, "caption": "Hello world #crier", "timestamp": "2025-01-01T00:00:00+0000"},
                ]
            },
        )
    )
    done = await adapter.advance(delivery, journal)

    assert (done.status, done.external_id, done.external_url) == ("published", MEDIA, PERMALINK)
    assert graph.publish.call_count == 1
    assert graph.listing.calls[0].request.url.params["fields"] == "id,caption,timestamp,permalink,media_type"
    assert graph.comment.call_count == 1 and journal.handles["ig_comment_id"] == "c1"


async def test_published_container_without_matching_media_is_published_without_id(graph, adapter):
    graph.status.mock(return_value=status_of("PUBLISHED"))
    graph.listing.mock(return_value=httpx.Response(200, json={"data": []}))
    journal = FakeJournal(ig_container_id=CONTAINER, ig_publish_sent=True)
    done = await adapter.advance(job("instagram", media_type="image"), journal)
    assert (done.kind, done.status, done.external_id, done.external_url) == (
        OutcomeKind.DONE,
        "published",
        None,
        None,
    )
    assert graph.publish.call_count == 0


async def test_finished_container_after_a_lost_publish_is_published_now(graph, adapter):
    journal = FakeJournal(ig_container_id=CONTAINER, ig_publish_sent=True)
    done = await adapter.advance(job("instagram", media_type="image"), journal)
    assert done.external_id == MEDIA and graph.publish.call_count == 1 and graph.create.call_count == 0


async def test_hard_error_reading_status_and_media_list_after_a_sent_publish_is_outcome_unknown(
    graph, adapter
):
    graph.status.mock(return_value=graph_error(10, message="Application does not have permission"))
    graph.listing.mock(return_value=graph_error(10, message="Application does not have permission"))
    journal = FakeJournal(ig_container_id=CONTAINER, ig_publish_sent=True)
    assert_kind(
        await adapter.advance(job("instagram", media_type="image"), journal),
        OutcomeKind.TERMINAL,
        "OUTCOME_UNKNOWN",
    )
    assert graph.publish.call_count == 0


@pytest.mark.parametrize(
    "failure",
    [graph_error(100, 33, "Unsupported get request."), httpx.ReadTimeout("slow"), httpx.Response(500)],
)
async def test_permalink_failure_never_fails_a_live_post(graph, adapter, failure):
    graph.read.mock(side_effect=[failure])
    done = await adapter.advance(job("instagram", media_type="image"), FakeJournal())
    assert (done.kind, done.status, done.external_id, done.external_url) == (
        OutcomeKind.DONE,
        "published",
        MEDIA,
        None,
    )


async def test_first_comment_is_posted_once(graph, adapter):
    journal, delivery = FakeJournal(), job("instagram", media_type="image", first_comment="link in bio")
    await adapter.advance(delivery, journal)
    await adapter.advance(delivery, journal)  # a repeated call after DONE must not comment again
    assert graph.comment.call_count == 1 and form(graph.comment) == {"message": "link in bio"}
    assert journal.handles["ig_comment_sent"] is True and journal.handles["ig_comment_id"] == "c1"
    assert graph.publish.call_count == 1


async def test_failed_first_comment_leaves_the_post_published(graph, adapter):
    graph.comment.mock(return_value=graph_error(4))
    journal = FakeJournal()
    done = await adapter.advance(job("instagram", media_type="image", first_comment="hi"), journal)
    assert done.status == "published" and done.external_id == MEDIA
    assert journal.handles["ig_comment_error"] == "GRAPH_4" and journal.handles["ig_comment_sent"] is True


async def test_expired_token_is_refreshed_once_and_the_call_repeated(graph, adapter):
    graph.create.mock(
        side_effect=[
            graph_error(190, 463, "Session has expired"),
            httpx.Response(200, json={"id": CONTAINER}),
        ]
    )
    with respx.mock(base_url=IG_REFRESH_BASE, assert_all_called=True) as login:
        refresh = login.get("/refresh_access_token").mock(
            return_value=httpx.Response(
                200, json={"access_token": "ig-new", "token_type": "bearer", "expires_in": 5183944}
            )
        )
        journal = FakeJournal()
        done = await adapter.advance(job("instagram", media_type="image"), journal)
    assert done.status == "published"
    assert dict(refresh.calls[0].request.url.params) == {
        "grant_type": "ig_refresh_token",
        "access_token": "at-old",
    }
    assert journal.tokens[0]["access_token"] == "ig-new" and journal.tokens[0]["refresh_token"] is None
    assert graph.create.calls[1].request.headers["Authorization"] == "Bearer ig-new"


async def test_token_that_cannot_be_refreshed_disconnects(graph, adapter):
    graph.create.mock(return_value=graph_error(190, message="Error validating access token"))
    with respx.mock(base_url=IG_REFRESH_BASE) as login:
        login.get("/refresh_access_token").mock(return_value=graph_error(190))
        journal = FakeJournal()
        outcome = await adapter.advance(job("instagram", media_type="image"), journal)
    assert_kind(outcome, OutcomeKind.TERMINAL, "CREDENTIAL_INVALID")
    assert journal.disconnected and "GRAPH_190" in journal.disconnected and journal.tokens == []


async def test_permalink_missing_from_the_answer_is_null(graph, adapter):
    graph.read.mock(return_value=httpx.Response(200, json={"id": MEDIA}))
    done = await adapter.advance(job("instagram", media_type="image"), FakeJournal())
    assert (done.status, done.external_id, done.external_url) == ("published", MEDIA, None)


async def test_status_answer_without_status_code_keeps_polling(graph, adapter):
    graph.status.mock(return_value=httpx.Response(200, json={"id": CONTAINER}))
    outcome = await adapter.advance(job("instagram", media_type="image"), FakeJournal())
    assert_kind(outcome, OutcomeKind.PROCESSING)
    assert graph.publish.call_count == 0


async def test_a_carousel_of_more_than_ten_items_fails_before_creating_anything(graph, adapter):
    journal = FakeJournal()
    urls = [f"https://cdn.example.com/{i}.jpg" for i in range(11)]

    outcome = await adapter.advance(job(platform="instagram", media_type="multi", media_urls=urls), journal)

    assert_kind(outcome, OutcomeKind.TERMINAL, "IG_CAROUSEL_TOO_LARGE")
    assert graph.create.call_count == 0 and journal.handles == {}


# Proactive refresh: a 60-day token more than ~24 h old is refreshed before the first Graph call.

IG_TOKEN_LIFETIME = 5183944


def refreshed_answer(token: str = "ig-new") -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": token, "token_type": "bearer", "expires_in": IG_TOKEN_LIFETIME}
    )


def expiring_in(remaining: timedelta | None):
    expires_at = None if remaining is None else datetime.now(UTC) + remaining
    return with_account(job("instagram", media_type="image"), token_expires_at=expires_at)


@pytest.fixture
def login():
    with respx.mock(base_url=IG_REFRESH_BASE, assert_all_called=False) as router:
        yield router.get("/refresh_access_token")


@pytest.mark.parametrize(
    "remaining",
    [timedelta(days=58, hours=23), timedelta(days=30), timedelta(days=7), timedelta(hours=1)],
    ids=["just-over-a-day-old", "a-month-old", "a-week-left", "an-hour-left"],
)
async def test_old_token_is_refreshed_before_the_first_graph_call(graph, adapter, login, remaining):
    login.mock(return_value=refreshed_answer())
    delivery, journal = expiring_in(remaining), FakeJournal()
    before = datetime.now(UTC)

    done = await adapter.advance(delivery, journal)

    assert done.status == "published"
    assert login.call_count == 1
    params = dict(login.calls[0].request.url.params)
    assert params == {"grant_type": "ig_refresh_token", "access_token": "at-old"}
    [saved] = journal.tokens
    assert saved["access_token"] == "ig-new" and saved["refresh_token"] is None
    lifetime = timedelta(seconds=IG_TOKEN_LIFETIME)
    assert before + lifetime <= saved["token_expires_at"] <= datetime.now(UTC) + lifetime
    assert delivery.account.access_token == "ig-new"
    assert delivery.account.token_expires_at == saved["token_expires_at"]
    assert delivery.account.refresh_token == "rt-old"  # never wiped
    for route in (graph.create, graph.status, graph.publish, graph.read):
        assert route.calls[0].request.headers["Authorization"] == "Bearer ig-new"
    # Fresh now: the next advance() of the same job does not refresh again.
    await adapter.advance(delivery, FakeJournal(ig_media_id=MEDIA))
    assert login.call_count == 1


@pytest.mark.parametrize(
    "remaining",
    [timedelta(days=59, hours=1), None, -timedelta(hours=1)],
    ids=["fresh", "unknown-expiry", "already-expired"],
)
async def test_fresh_unknown_or_expired_token_is_not_refreshed_proactively(graph, adapter, login, remaining):
    login.mock(return_value=refreshed_answer())
    journal = FakeJournal()
    done = await adapter.advance(expiring_in(remaining), journal)
    assert done.status == "published"
    assert login.call_count == 0 and journal.tokens == []
    assert graph.create.calls[0].request.headers["Authorization"] == "Bearer at-old"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, text="oops"),
        graph_error(190, message="Error validating access token"),
        graph_error(100, message="Token is too young"),
        httpx.Response(200, json={"token_type": "bearer"}),
        httpx.ConnectError("https://iglogin.test/refresh_access_token?access_token=at-old"),
        httpx.ReadTimeout("timed out"),
    ],
    ids=["http-500", "graph-190", "graph-100", "no-token", "connect-error", "read-timeout"],
)
async def test_failed_proactive_refresh_still_publishes_with_the_old_token(graph, adapter, login, answer):
    if isinstance(answer, Exception):
        login.mock(side_effect=answer)
    else:
        login.mock(return_value=answer)
    delivery, journal = expiring_in(timedelta(days=10)), FakeJournal()
    graph.status.mock(side_effect=[status_of("IN_PROGRESS"), status_of("FINISHED")])

    assert_kind(await adapter.advance(delivery, journal), OutcomeKind.PROCESSING)
    done = await adapter.advance(delivery, journal)

    assert done.status == "published" and done.external_id == MEDIA
    assert login.call_count == 1  # tried once for this post, not on every advance()
    assert journal.tokens == [] and journal.disconnected is None
    assert delivery.account.access_token == "at-old"
    assert graph.publish.calls[0].request.headers["Authorization"] == "Bearer at-old"
    assert "at-old" not in repr(journal.handles)
    assert journal.handles["ig_token_refresh_error"]


async def test_a_token_refused_right_after_a_proactive_refresh_disconnects_without_a_second_refresh(
    graph, adapter, login
):
    login.mock(return_value=refreshed_answer())
    graph.create.mock(return_value=graph_error(190, message="Error validating access token"))
    journal = FakeJournal()
    outcome = await adapter.advance(expiring_in(timedelta(days=30)), journal)
    assert_kind(outcome, OutcomeKind.TERMINAL, "CREDENTIAL_INVALID")
    assert login.call_count == 1 and journal.disconnected
    assert "ig-new" not in outcome.error.message and "at-old" not in outcome.error.message
