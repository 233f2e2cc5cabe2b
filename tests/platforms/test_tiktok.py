"""TikTok adapter against respx mocks of PLATFORMS.md §1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from unittest.mock import ANY
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from crier.platforms.base import OutcomeKind
from crier.platforms.tiktok import TikTokAdapter
from tests.platforms.support import TIKTOK_BASE, FakeJournal, assert_kind, job, settings, with_account

pytestmark = pytest.mark.asyncio

BIG_ID = "7291234567890123456"  # > 2^53: float parsing would turn it into ...123776
CREATOR = "/v2/post/publish/creator_info/query/"
VIDEO_INIT = "/v2/post/publish/video/init/"
INBOX_INIT = "/v2/post/publish/inbox/video/init/"
CONTENT_INIT = "/v2/post/publish/content/init/"
STATUS = "/v2/post/publish/status/fetch/"
TOKEN = "/v2/oauth/token/"
PUBLIC = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]


def ok(data: dict, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"data": data, "error": {"code": "ok", "message": "", "log_id": "L1"}})


def err(code: str, status: int, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        headers=headers,
        json={"data": {}, "error": {"code": code, "message": f"msg {code}", "log_id": "L2"}},
    )


def status_answer(status: str, ids: str | None = None, **extra: str) -> httpx.Response:
    # Written by hand so the int64 id is a raw JSON number, exactly as TikTok sends it.
    id_part = f', "publicaly_available_post_id": [{ids}]' if ids is not None else ""
    extra_part = "".join(f', "{key}": "{value}"' for key, value in extra.items())
    text = (
        f'{{"data": {{"status": "{status}"{id_part}{extra_part}, "uploaded_bytes": 0}}, '
        f'"error": {{"code": "ok", "message": "", "log_id": "L3"}}}}'
    )
    return httpx.Response(200, text=text, headers={"Content-Type": "application/json"})


def creator(options: list[str] | None = None, username: str = "creator") -> httpx.Response:
    return ok(
        {
            "creator_username": username,
            "privacy_level_options": options or PUBLIC,
            "comment_disabled": False,
            "duet_disabled": False,
            "stitch_disabled": False,
            "max_video_post_duration_sec": 600,
        }
    )


@pytest.fixture
def mock():
    with respx.mock(base_url=TIKTOK_BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def adapter():
    async with httpx.AsyncClient() as http:
        yield TikTokAdapter(http=http, settings=settings())


def sent(route: respx.Route, index: int = -1) -> dict:
    return json.loads(route.calls[index].request.content)


async def test_video_publish_inits_once_then_polls_to_published_with_exact_int64_id(mock, adapter):
    info = mock.post(CREATOR).mock(return_value=creator())
    init = mock.post(VIDEO_INIT).mock(return_value=ok({"publish_id": "v_pub_url~v2.1"}))
    poll = mock.post(STATUS).mock(
        side_effect=[status_answer("PROCESSING_DOWNLOAD"), status_answer("PUBLISH_COMPLETE", BIG_ID)]
    )
    delivery = job(
        tiktok_post_settings={
            "privacyLevel": "MUTUAL_FOLLOW_FRIENDS",
            "disableDuet": True,
            "isBrandedContent": True,
        }
    )
    journal = FakeJournal()

    assert_kind(await adapter.advance(delivery, journal), OutcomeKind.PROCESSING)
    assert journal.writes == [
        {"tiktok_init_sent": True, "tiktok_init_sent_at": ANY},
        {"tiktok_publish_id": "v_pub_url~v2.1", "tiktok_username": "creator"},
    ]
    assert info.call_count == 1 and init.call_count == 1
    assert info.calls[0].request.headers["Authorization"] == "Bearer at-old"
    assert sent(init) == {
        "post_info": {
            "title": "Hello world #crier",
            "privacy_level": "MUTUAL_FOLLOW_FRIENDS",
            "disable_duet": True,
            "disable_comment": False,
            "disable_stitch": False,
            "brand_content_toggle": True,
            "brand_organic_toggle": False,
        },
        "source_info": {"source": "PULL_FROM_URL", "video_url": "https://cdn.test/v.mp4"},
    }

    assert_kind(await adapter.advance(delivery, journal), OutcomeKind.PROCESSING)
    done = await adapter.advance(delivery, journal)
    assert done.kind is OutcomeKind.DONE and done.status == "published"
    assert done.external_id == BIG_ID and isinstance(done.external_id, str)
    assert done.external_url == f"https://www.tiktok.com/@creator/video/{BIG_ID}"
    assert init.call_count == 1 and sent(poll) == {"publish_id": "v_pub_url~v2.1"}


@pytest.mark.parametrize(
    ("music", "auto_add"),
    [
        (None, False),
        ({"mode": "none"}, False),
        ({"mode": "auto"}, True),
        ({"mode": "manual", "trackId": "t1", "link": "https://music.test/t1"}, True),
    ],
)
async def test_photo_publish_body_maps_music_and_has_no_duet_or_stitch(mock, adapter, music, auto_add):
    mock.post(CREATOR).mock(return_value=creator())
    init = mock.post(CONTENT_INIT).mock(return_value=ok({"publish_id": "p_pub_url~v2.2"}))
    caption = "x" * 120
    delivery = job(
        media_type="multi",
        caption=caption,
        tiktok_music=music,
        tiktok_post_settings={"disableComment": True, "disableDuet": True, "isBrandOrganic": True},
    )

    assert_kind(await adapter.advance(delivery, FakeJournal()), OutcomeKind.PROCESSING)

    assert sent(init) == {
        "media_type": "PHOTO",
        "post_mode": "DIRECT_POST",
        "post_info": {
            "title": "x" * 90,
            "description": caption,
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "disable_comment": True,
            "auto_add_music": auto_add,
            "brand_content_toggle": False,
            "brand_organic_toggle": True,
        },
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_images": delivery.media_urls,
            "photo_cover_index": 0,
        },
    }


async def test_single_image_publish_uses_photo_init(mock, adapter):
    mock.post(CREATOR).mock(return_value=creator())
    init = mock.post(CONTENT_INIT).mock(return_value=ok({"publish_id": "p_pub_url~v2.3"}))
    await adapter.advance(job(media_type="image"), FakeJournal())
    assert sent(init)["source_info"]["photo_images"] == ["https://cdn.test/a.jpg"]


async def test_video_draft_sends_only_source_info_and_ends_draft_at_inbox(mock, adapter):
    info = mock.post(CREATOR).mock(return_value=creator())
    init = mock.post(INBOX_INIT).mock(return_value=ok({"publish_id": "v_inbox~1"}))
    mock.post(STATUS).mock(return_value=status_answer("SEND_TO_USER_INBOX"))
    delivery, journal = job(mode="draft"), FakeJournal()

    assert_kind(await adapter.advance(delivery, journal), OutcomeKind.PROCESSING)
    done = await adapter.advance(delivery, journal)

    assert sent(init) == {"source_info": {"source": "PULL_FROM_URL", "video_url": "https://cdn.test/v.mp4"}}
    assert info.call_count == 0  # creator_info is a video.publish call; drafts need only video.upload
    assert done.kind is OutcomeKind.DONE and done.status == "draft" and done.external_id == "v_inbox~1"


async def test_photo_draft_is_media_upload_with_only_title_and_description(mock, adapter):
    init = mock.post(CONTENT_INIT).mock(return_value=ok({"publish_id": "p_inbox~1"}))
    await adapter.advance(job(mode="draft", media_type="multi"), FakeJournal())
    body = sent(init)
    assert body["post_mode"] == "MEDIA_UPLOAD" and body["media_type"] == "PHOTO"
    assert body["post_info"] == {"title": "Hello world #crier", "description": "Hello world #crier"}


async def test_privacy_level_the_creator_cannot_use_is_terminal_without_init(mock, adapter):
    mock.post(CREATOR).mock(
        return_value=creator(["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"])
    )
    init = mock.post(VIDEO_INIT)
    journal = FakeJournal()

    outcome = await adapter.advance(job(), journal)

    assert_kind(outcome, OutcomeKind.TERMINAL, "TIKTOK_PRIVACY_LEVEL_OPTION_MISMATCH")
    assert "PUBLIC_TO_EVERYONE" in outcome.error.message and "FOLLOWER_OF_CREATOR" in outcome.error.message
    assert init.call_count == 0 and journal.writes == []


@pytest.mark.parametrize(
    "code", ["spam_risk_too_many_posts", "reached_active_user_cap", "spam_risk_user_banned_from_posting"]
)
async def test_creator_info_errors_with_http_200_are_terminal(mock, adapter, code):
    mock.post(CREATOR).mock(return_value=err(code, 200))
    init = mock.post(VIDEO_INIT)
    outcome = await adapter.advance(job(), FakeJournal())
    assert_kind(outcome, OutcomeKind.TERMINAL, f"TIKTOK_{code.upper()}")
    assert outcome.error.platform == "tiktok" and init.call_count == 0


@pytest.mark.parametrize("code", ["invalid_param", "invalid_params"])
async def test_invalid_param_spellings_are_one_terminal_error_and_clear_the_marker(mock, adapter, code):
    mock.post(CREATOR).mock(return_value=creator())
    mock.post(VIDEO_INIT).mock(return_value=err(code, 400))
    journal = FakeJournal()
    assert_kind(await adapter.advance(job(), journal), OutcomeKind.TERMINAL, "TIKTOK_INVALID_PARAMS")
    assert journal.handles["tiktok_init_sent"] is False


async def test_rate_limited_init_is_retryable_with_retry_after_and_may_init_again(mock, adapter):
    mock.post(CREATOR).mock(return_value=creator())
    init = mock.post(VIDEO_INIT).mock(
        side_effect=[
            err("rate_limit_exceeded", 429, {"Retry-After": "7"}),
            ok({"publish_id": "v_pub_url~v2.9"}),
        ]
    )
    journal = FakeJournal()

    first = await adapter.advance(job(), journal)
    assert_kind(first, OutcomeKind.RETRYABLE, "TIKTOK_RATE_LIMIT_EXCEEDED")
    assert first.retry_after == 7.0 and journal.handles["tiktok_init_sent"] is False

    assert_kind(await adapter.advance(job(), journal), OutcomeKind.PROCESSING)
    assert init.call_count == 2 and journal.handles["tiktok_publish_id"] == "v_pub_url~v2.9"


@pytest.mark.parametrize(
    "failure",
    [
        err("internal_error", 500),
        httpx.Response(502, text="bad gateway"),
        httpx.ReadTimeout("read timed out"),
    ],
)
async def test_init_with_unknown_outcome_is_never_repeated(mock, adapter, failure):
    mock.post(CREATOR).mock(return_value=creator())
    init = mock.post(VIDEO_INIT).mock(side_effect=[failure])
    journal = FakeJournal()

    assert_kind(await adapter.advance(job(), journal), OutcomeKind.RETRYABLE)
    assert journal.handles == {"tiktok_init_sent": True, "tiktok_init_sent_at": ANY}

    second = await adapter.advance(job(), journal)
    assert_kind(second, OutcomeKind.TERMINAL, "OUTCOME_UNKNOWN")
    assert "Check the account before reposting" in second.error.message
    assert init.call_count == 1


async def test_init_that_never_connected_clears_the_marker_and_retries(mock, adapter):
    mock.post(CREATOR).mock(return_value=creator())
    init = mock.post(VIDEO_INIT).mock(side_effect=[httpx.ConnectError("refused"), ok({"publish_id": "v1"})])
    journal = FakeJournal()
    assert_kind(await adapter.advance(job(), journal), OutcomeKind.RETRYABLE, "NETWORK_ERROR")
    assert journal.handles["tiktok_init_sent"] is False
    assert_kind(await adapter.advance(job(), journal), OutcomeKind.PROCESSING)
    assert init.call_count == 2


@pytest.mark.parametrize("reason", ["file_format_check_failed", "internal", "spam_risk_text"])
async def test_failed_status_is_terminal_with_fail_reason_and_never_reinits(mock, adapter, reason):
    init = mock.post(VIDEO_INIT)
    mock.post(STATUS).mock(return_value=status_answer("FAILED", fail_reason=reason))
    outcome = await adapter.advance(job(), FakeJournal(tiktok_init_sent=True, tiktok_publish_id="v1"))
    assert_kind(outcome, OutcomeKind.TERMINAL, f"TIKTOK_{reason.upper()}")
    assert reason in outcome.error.message and init.call_count == 0


@pytest.mark.parametrize("ids", ["", None])
async def test_publish_complete_without_id_waits_three_polls_then_publishes_without_url(mock, adapter, ids):
    mock.post(STATUS).mock(return_value=status_answer("PUBLISH_COMPLETE", ids))
    journal = FakeJournal(tiktok_init_sent=True, tiktok_publish_id="v1")
    outcomes = [await adapter.advance(job(), journal) for _ in range(4)]
    assert [o.kind for o in outcomes[:3]] == [OutcomeKind.PROCESSING] * 3
    assert outcomes[3].kind is OutcomeKind.DONE and outcomes[3].status == "published"
    assert outcomes[3].external_id is None and outcomes[3].external_url is None


async def test_status_poll_server_error_is_retryable_not_unknown(mock, adapter):
    mock.post(STATUS).mock(side_effect=[httpx.Response(503), status_answer("PROCESSING_DOWNLOAD")])
    journal = FakeJournal(tiktok_init_sent=True, tiktok_publish_id="v1")
    assert_kind(await adapter.advance(job(), journal), OutcomeKind.RETRYABLE, "TIKTOK_HTTP_503")
    assert_kind(await adapter.advance(job(), journal), OutcomeKind.PROCESSING)


def token_answer(refresh_token: str = "rt-new", status: int = 200) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "access_token": "at-new",
            "expires_in": 86400,
            "open_id": "open-1",
            "refresh_expires_in": 31536000,
            "refresh_token": refresh_token,
            "scope": "video.publish,video.upload",
            "token_type": "Bearer",
        },
    )


async def test_token_expiring_within_five_minutes_is_refreshed_first_and_rotation_stored(mock, adapter):
    token = mock.post(TOKEN).mock(return_value=token_answer())
    info = mock.post(CREATOR).mock(return_value=creator())
    mock.post(VIDEO_INIT).mock(return_value=ok({"publish_id": "v1"}))
    delivery = with_account(job(), token_expires_at=datetime.now(UTC) + timedelta(minutes=4))
    journal = FakeJournal()

    assert_kind(await adapter.advance(delivery, journal), OutcomeKind.PROCESSING)

    form = parse_qs(token.calls[0].request.content.decode())
    assert form == {
        "client_key": ["ck"],
        "client_secret": ["cs-secret"],
        "grant_type": ["refresh_token"],
        "refresh_token": ["rt-old"],
    }
    assert token.calls[0].request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    [saved] = journal.tokens
    assert saved["access_token"] == "at-new" and saved["refresh_token"] == "rt-new"
    assert saved["token_expires_at"] > datetime.now(UTC) + timedelta(hours=23)
    assert saved["refresh_token_expires_at"] > datetime.now(UTC) + timedelta(days=364)
    assert info.calls[0].request.headers["Authorization"] == "Bearer at-new"
    assert delivery.account.refresh_token == "rt-new"


@pytest.mark.parametrize("lifetime", ["soon", None, 10**30, [86400]], ids=["text", "null", "huge", "list"])
async def test_rotated_tokens_are_saved_even_when_their_lifetime_is_unreadable(mock, adapter, lifetime):
    # TikTok has already spent the old refresh token: losing the answer's new one would strand the account.
    answer = token_answer().json() | {"expires_in": lifetime, "refresh_expires_in": lifetime}
    mock.post(TOKEN).mock(return_value=httpx.Response(200, json=answer))
    mock.post(STATUS).mock(return_value=status_answer("PROCESSING_DOWNLOAD"))
    delivery = with_account(job(), token_expires_at=datetime.now(UTC) - timedelta(minutes=1))
    journal = FakeJournal(tiktok_publish_id="v1")

    assert_kind(await adapter.advance(delivery, journal), OutcomeKind.PROCESSING)

    [saved] = journal.tokens
    assert saved["access_token"] == "at-new" and saved["refresh_token"] == "rt-new"
    assert saved["token_expires_at"] is None and saved["refresh_token_expires_at"] is None


async def test_fresh_token_is_not_refreshed(mock, adapter):
    token = mock.post(TOKEN)
    mock.post(STATUS).mock(return_value=status_answer("PROCESSING_DOWNLOAD"))
    await adapter.advance(job(), FakeJournal(tiktok_publish_id="v1"))
    assert token.call_count == 0


async def test_refresh_answer_without_refresh_token_never_stores_an_empty_one(mock, adapter):
    mock.post(TOKEN).mock(return_value=token_answer(refresh_token=""))
    mock.post(STATUS).mock(return_value=status_answer("PROCESSING_DOWNLOAD"))
    delivery = with_account(job(), token_expires_at=datetime.now(UTC) - timedelta(minutes=1))
    journal = FakeJournal(tiktok_publish_id="v1")
    await adapter.advance(delivery, journal)
    assert journal.tokens[0]["refresh_token"] is None
    assert delivery.account.refresh_token == "rt-old"


async def test_invalid_grant_even_with_http_200_disconnects_and_is_terminal(mock, adapter):
    mock.post(TOKEN).mock(
        return_value=httpx.Response(
            200,
            json={"error": "invalid_grant", "error_description": "Refresh token is invalid", "log_id": "L"},
        )
    )
    init = mock.post(VIDEO_INIT)
    delivery = with_account(job(), token_expires_at=datetime.now(UTC) - timedelta(hours=1))
    journal = FakeJournal()
    outcome = await adapter.advance(delivery, journal)
    assert_kind(outcome, OutcomeKind.TERMINAL, "CREDENTIAL_INVALID")
    assert journal.disconnected and "invalid_grant" in journal.disconnected
    assert init.call_count == 0 and journal.tokens == []


async def test_refresh_server_error_is_retryable_and_keeps_the_account(mock, adapter):
    mock.post(TOKEN).mock(return_value=httpx.Response(503))
    delivery = with_account(job(), token_expires_at=datetime.now(UTC) - timedelta(hours=1))
    journal = FakeJournal()
    assert_kind(await adapter.advance(delivery, journal), OutcomeKind.RETRYABLE, "TIKTOK_REFRESH_HTTP_503")
    assert journal.disconnected is None


async def test_access_token_invalid_refreshes_once_and_repeats_the_refused_call(mock, adapter):
    mock.post(TOKEN).mock(return_value=token_answer())
    mock.post(CREATOR).mock(return_value=creator())
    init = mock.post(VIDEO_INIT).mock(
        side_effect=[err("access_token_invalid", 401), ok({"publish_id": "v7"})]
    )
    journal = FakeJournal()

    assert_kind(await adapter.advance(job(), journal), OutcomeKind.PROCESSING)

    assert init.call_count == 2  # refused once (not acted on), then accepted once
    assert init.calls[1].request.headers["Authorization"] == "Bearer at-new"
    assert journal.handles["tiktok_publish_id"] == "v7" and journal.tokens[0]["refresh_token"] == "rt-new"


async def test_access_token_invalid_after_refresh_disconnects(mock, adapter):
    mock.post(TOKEN).mock(return_value=token_answer())
    mock.post(STATUS).mock(return_value=err("access_token_invalid", 401))
    journal = FakeJournal(tiktok_publish_id="v1")
    assert_kind(await adapter.advance(job(), journal), OutcomeKind.TERMINAL, "CREDENTIAL_INVALID")
    assert journal.disconnected


async def test_errors_never_carry_tokens_or_secrets(mock, adapter):
    mock.post(TOKEN).mock(side_effect=httpx.ConnectError("https://tiktok.test/?token=at-old"))
    delivery = with_account(job(), token_expires_at=datetime.now(UTC))
    outcome = await adapter.advance(delivery, FakeJournal())
    assert_kind(outcome, OutcomeKind.RETRYABLE, "NETWORK_ERROR")
    text = json.dumps(outcome.error.as_dict())
    assert "at-old" not in text and "rt-old" not in text and "cs-secret" not in text


async def test_creator_info_without_privacy_options_still_inits_with_the_default(mock, adapter):
    mock.post(CREATOR).mock(return_value=ok({"creator_username": "creator"}))
    init = mock.post(VIDEO_INIT).mock(return_value=ok({"publish_id": "v1"}))
    assert_kind(await adapter.advance(job(), FakeJournal()), OutcomeKind.PROCESSING)
    assert sent(init)["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"


async def test_interactions_the_creator_disabled_stay_disabled(mock, adapter):
    mock.post(CREATOR).mock(
        return_value=ok(
            {
                "privacy_level_options": PUBLIC,
                "comment_disabled": True,
                "duet_disabled": True,
                "stitch_disabled": False,
            }
        )
    )
    init = mock.post(VIDEO_INIT).mock(return_value=ok({"publish_id": "v1"}))
    await adapter.advance(job(), FakeJournal())
    info = sent(init)["post_info"]
    assert (info["disable_comment"], info["disable_duet"], info["disable_stitch"]) == (True, True, False)


async def test_access_token_invalid_without_a_refresh_token_disconnects(mock, adapter):
    token = mock.post(TOKEN)
    mock.post(STATUS).mock(return_value=err("access_token_invalid", 401))
    journal = FakeJournal(tiktok_publish_id="v1")
    outcome = await adapter.advance(with_account(job(), refresh_token=None), journal)
    assert_kind(outcome, OutcomeKind.TERMINAL, "CREDENTIAL_INVALID")
    assert journal.disconnected and token.call_count == 0


async def test_public_url_uses_the_journaled_creator_username_over_the_handle(mock, adapter):
    mock.post(CREATOR).mock(return_value=creator(username="real_name"))
    mock.post(VIDEO_INIT).mock(return_value=ok({"publish_id": "v1"}))
    mock.post(STATUS).mock(return_value=status_answer("PUBLISH_COMPLETE", BIG_ID))
    delivery, journal = with_account(job(), handle="@stale_handle"), FakeJournal()

    assert_kind(await adapter.advance(delivery, journal), OutcomeKind.PROCESSING)
    assert journal.handles["tiktok_username"] == "real_name"
    done = await adapter.advance(delivery, journal)

    assert done.external_url == f"https://www.tiktok.com/@real_name/video/{BIG_ID}"


@pytest.mark.parametrize(
    "journaled",
    [
        pytest.param({}, id="rescued-journal-without-username"),
        pytest.param({"tiktok_username": ""}, id="empty-username"),
    ],
)
async def test_public_url_falls_back_to_the_handle_without_a_username(mock, adapter, journaled):
    mock.post(STATUS).mock(return_value=status_answer("PUBLISH_COMPLETE", BIG_ID))
    journal = FakeJournal(tiktok_init_sent=True, tiktok_publish_id="v1", **journaled)
    done = await adapter.advance(with_account(job(), handle="@creator"), journal)
    assert done.external_url == f"https://www.tiktok.com/@creator/video/{BIG_ID}"


async def test_creator_info_without_username_journals_none_and_uses_the_handle(mock, adapter):
    mock.post(CREATOR).mock(return_value=ok({"privacy_level_options": PUBLIC}))
    mock.post(VIDEO_INIT).mock(return_value=ok({"publish_id": "v1"}))
    mock.post(STATUS).mock(return_value=status_answer("PUBLISH_COMPLETE", BIG_ID))
    delivery, journal = job(), FakeJournal()

    await adapter.advance(delivery, journal)
    assert journal.writes[-1] == {"tiktok_publish_id": "v1"}
    done = await adapter.advance(delivery, journal)
    assert done.external_url == f"https://www.tiktok.com/@creator/video/{BIG_ID}"


async def test_drafts_journal_no_username(mock, adapter):
    mock.post(INBOX_INIT).mock(return_value=ok({"publish_id": "v_inbox~1"}))
    journal = FakeJournal()
    await adapter.advance(job(mode="draft"), journal)
    assert journal.writes == [
        {"tiktok_init_sent": True, "tiktok_init_sent_at": ANY},
        {"tiktok_publish_id": "v_inbox~1"},
    ]
