"""The sandbox answers what reconciliation asks and enforces TikTok's per-token rates (PLATFORMS.md §6–§7)."""

from __future__ import annotations

import asyncio
import base64

import pytest

from tests.sandbox.test_fakes import BEARER, TT, VIDEO_BODY, records

pytestmark = pytest.mark.asyncio

TWILIO = "/twilio/2010-04-01/Accounts/AC1"
BASIC = {"Authorization": "Basic " + base64.b64encode(b"AC1:secret").decode()}


async def test_the_video_list_shows_public_posts_newest_first_after_processing(sandbox):
    for title in ("first", "second"):
        body = {**VIDEO_BODY, "post_info": {**VIDEO_BODY["post_info"], "title": title}}
        assert (await sandbox.post(f"{TT}/video/init/", headers=BEARER, json=body)).status_code == 200
    private = {**VIDEO_BODY, "post_info": {"title": "hidden", "privacy_level": "SELF_ONLY"}}
    await sandbox.post(f"{TT}/video/init/", headers=BEARER, json=private)
    await asyncio.sleep(0.06)

    answer = await sandbox.post(
        "/tiktok/v2/video/list/?fields=id,title,create_time,share_url", headers=BEARER, json={"max_count": 20}
    )

    data = answer.json()["data"]
    assert [video["title"] for video in data["videos"]] == ["second", "first"]  # SELF_ONLY is not listed
    assert set(data["videos"][0]) == {"id", "title", "create_time", "share_url"} and data["has_more"] is False
    assert isinstance(data["videos"][0]["id"], str) and isinstance(data["videos"][0]["create_time"], int)


async def test_the_video_list_pages_by_cursor(sandbox):
    for index in range(3):
        body = {**VIDEO_BODY, "post_info": {**VIDEO_BODY["post_info"], "title": f"t{index}"}}
        await sandbox.post(f"{TT}/video/init/", headers=BEARER, json=body)
    await asyncio.sleep(0.06)

    first = (
        await sandbox.post("/tiktok/v2/video/list/?fields=title", headers=BEARER, json={"max_count": 2})
    ).json()["data"]
    rest = (
        await sandbox.post(
            "/tiktok/v2/video/list/?fields=title",
            headers=BEARER,
            json={"max_count": 2, "cursor": first["cursor"]},
        )
    ).json()["data"]

    assert [v["title"] for v in first["videos"]] == ["t2", "t1"] and first["has_more"] is True
    assert [v["title"] for v in rest["videos"]] == ["t0"] and rest["has_more"] is False


async def test_twilio_messages_are_found_by_sid_and_by_to_and_date(sandbox):
    sent = await sandbox.post(
        f"{TWILIO}/Messages.json",
        headers=BASIC,
        data={"To": "+15551234567", "From": "+15550000000", "Body": "hello"},
    )
    sid = sent.json()["sid"]

    by_sid = await sandbox.get(f"{TWILIO}/Messages/{sid}.json", headers=BASIC)
    listed = await sandbox.get(
        f"{TWILIO}/Messages.json", headers=BASIC, params={"To": "+15551234567", "DateSent>=": "2020-01-01"}
    )
    other = await sandbox.get(f"{TWILIO}/Messages.json", headers=BASIC, params={"To": "+15559999999"})

    assert by_sid.status_code == 200 and by_sid.json()["body"] == "hello"
    assert [m["sid"] for m in listed.json()["messages"]] == [sid] and listed.json()["next_page_uri"] is None
    assert other.json()["messages"] == []
    assert (await sandbox.get(f"{TWILIO}/Messages/SMnope.json", headers=BASIC)).status_code == 404


async def test_tiktok_per_token_rates_answer_429_once_configured(sandbox):
    assert (await sandbox.post("/_sandbox/config", json={"tiktokRateWindowSeconds": 60})).status_code == 200
    answers = [await sandbox.post(f"{TT}/video/init/", headers=BEARER, json=VIDEO_BODY) for _ in range(7)]
    other_token = await sandbox.post(
        f"{TT}/video/init/", headers={"Authorization": "Bearer tok-b"}, json=VIDEO_BODY
    )

    assert [a.status_code for a in answers] == [200] * 6 + [429]
    assert answers[-1].json()["error"]["code"] == "rate_limit_exceeded"
    assert other_token.status_code == 200  # per token
    state = await records(sandbox)
    assert state["tiktok"]["rateLimited"] == 1 and len(state["tiktok"]["publishes"]) == 7


async def test_rates_are_off_by_default(sandbox):
    answers = [await sandbox.post(f"{TT}/creator_info/query/", headers=BEARER) for _ in range(25)]
    assert {a.status_code for a in answers} == {200}
