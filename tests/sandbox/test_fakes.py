"""The fakes speak PLATFORMS.md: envelopes, lifecycles, token rules, records and scripted faults."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest

from crier.platforms.managed import sign

pytestmark = pytest.mark.asyncio

TT = "/tiktok/v2/post/publish"
IG = "/instagram/v25.0"
BEARER = {"Authorization": "Bearer tok-a"}
VIDEO_BODY = {
    "post_info": {"title": "clip", "privacy_level": "PUBLIC_TO_EVERYONE"},
    "source_info": {"source": "PULL_FROM_URL", "video_url": "https://cdn.test/v.mp4"},
}


async def faults(sandbox, **body):
    response = await sandbox.post("/_sandbox/faults", json=body)
    assert response.status_code == 200, response.text


async def records(sandbox):
    return (await sandbox.get("/_sandbox/records")).json()


async def test_tiktok_status_goes_from_processing_to_complete_with_a_raw_int64_id(sandbox):
    init = await sandbox.post(f"{TT}/video/init/", headers=BEARER, json=VIDEO_BODY)
    assert init.json()["error"] == {"code": "ok", "message": "", "log_id": init.json()["error"]["log_id"]}
    publish_id = init.json()["data"]["publish_id"]

    first = await sandbox.post(f"{TT}/status/fetch/", headers=BEARER, json={"publish_id": publish_id})
    assert first.json()["data"]["status"] == "PROCESSING_DOWNLOAD"
    await asyncio.sleep(0.06)
    done = await sandbox.post(f"{TT}/status/fetch/", headers=BEARER, json={"publish_id": publish_id})

    assert re.search(r'"publicaly_available_post_id":\[(\d{19})\]', done.text), done.text
    post_id = json.loads(done.text, parse_int=str)["data"]["publicaly_available_post_id"][0]
    assert int(post_id) > 2**53
    assert (await records(sandbox))["tiktok"]["posts"][0]["post_id"] == int(post_id)


async def test_tiktok_rejects_missing_tokens_and_mismatched_privacy(sandbox):
    missing = await sandbox.post(f"{TT}/creator_info/query/")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "access_token_invalid"
    await faults(sandbox, tiktokPrivate=["tok-a"])
    info = await sandbox.post(f"{TT}/creator_info/query/", headers=BEARER)
    assert info.json()["data"]["privacy_level_options"] == [
        "FOLLOWER_OF_CREATOR",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    ]
    init = await sandbox.post(f"{TT}/video/init/", headers=BEARER, json=VIDEO_BODY)
    assert init.status_code == 403 and init.json()["error"]["code"] == "privacy_level_option_mismatch"
    other = await sandbox.post(f"{TT}/creator_info/query/", headers={"Authorization": "Bearer tok-b"})
    assert "PUBLIC_TO_EVERYONE" in other.json()["data"]["privacy_level_options"]


async def test_tiktok_photo_rules(sandbox):
    photo = {
        "media_type": "PHOTO",
        "post_mode": "DIRECT_POST",
        "post_info": {"title": "t", "privacy_level": "PUBLIC_TO_EVERYONE", "disable_duet": False},
        "source_info": {"source": "PULL_FROM_URL", "photo_images": ["https://cdn.test/a.jpg"]},
    }
    duet = await sandbox.post(f"{TT}/content/init/", headers=BEARER, json=photo)
    assert duet.status_code == 400 and duet.json()["error"]["code"] == "invalid_params"
    draft = {**photo, "post_mode": "MEDIA_UPLOAD", "post_info": {"title": "t", "privacy_level": "SELF_ONLY"}}
    assert (await sandbox.post(f"{TT}/content/init/", headers=BEARER, json=draft)).status_code == 400
    draft["post_info"] = {"title": "t", "description": "d"}
    assert (await sandbox.post(f"{TT}/content/init/", headers=BEARER, json=draft)).json()["error"][
        "code"
    ] == "ok"


async def test_tiktok_refresh_rotates_and_a_spent_refresh_token_is_invalid_grant_with_200(sandbox):
    form = {"client_key": "ck", "client_secret": "cs", "grant_type": "refresh_token", "refresh_token": "rt-1"}
    first = (await sandbox.post("/tiktok/v2/oauth/token/", data=form)).json()
    assert first["refresh_token"].startswith("sbx-rt.rt-1.") and first["access_token"].startswith(
        "sbx-at.rt-1."
    )
    again = await sandbox.post("/tiktok/v2/oauth/token/", data=form)
    assert again.status_code == 200 and again.json()["error"] == "invalid_grant"
    rotated = await sandbox.post(
        "/tiktok/v2/oauth/token/", data={**form, "refresh_token": first["refresh_token"]}
    )
    assert rotated.json()["refresh_token"] != first["refresh_token"]


async def test_tiktok_failed_status_carries_the_scripted_fail_reason(sandbox):
    await faults(sandbox, tiktokFail={"reason": "spam_risk_text", "times": 1})
    publish_id = (await sandbox.post(f"{TT}/video/init/", headers=BEARER, json=VIDEO_BODY)).json()["data"][
        "publish_id"
    ]
    await asyncio.sleep(0.06)
    data = (
        await sandbox.post(f"{TT}/status/fetch/", headers=BEARER, json={"publish_id": publish_id})
    ).json()["data"]
    assert data == {
        "status": "FAILED",
        "fail_reason": "spam_risk_text",
        "uploaded_bytes": 0,
        "downloaded_bytes": 1048576,
    }
    assert (await sandbox.get("/_sandbox/faults")).json()["tiktokFail"] is None


async def test_a_publish_whose_processing_failed_is_not_counted_as_created(sandbox):
    # TikTok made no post of it: a second init for the same caption (its first answer lost, its
    # absence proven by the video list) creates the one post, not a duplicate.
    await faults(sandbox, tiktokFail={"reason": "file_format_check_failed", "times": 1})
    for _ in range(2):
        publish_id = (await sandbox.post(f"{TT}/video/init/", headers=BEARER, json=VIDEO_BODY)).json()[
            "data"
        ]["publish_id"]
        await asyncio.sleep(0.06)
        await sandbox.post(f"{TT}/status/fetch/", headers=BEARER, json={"publish_id": publish_id})
    created = (await records(sandbox))["createdPerCaption"]["tiktok"]
    assert list(created.values()) == [1]
    assert (await records(sandbox))["duplicates"] == []


async def test_instagram_container_lifecycle_publish_and_permalink(sandbox):
    created = await sandbox.post(
        f"{IG}/42/media", headers=BEARER, data={"image_url": "https://cdn.test/a.jpg", "caption": "cap"}
    )
    container = created.json()["id"]
    early = await sandbox.post(f"{IG}/42/media_publish", headers=BEARER, data={"creation_id": container})
    assert early.json()["error"]["code"] == 9007 and early.json()["error"]["error_subcode"] == 2207027
    await asyncio.sleep(0.06)
    status = await sandbox.get(
        f"{IG}/{container}", params={"fields": "status_code,status", "access_token": "t"}
    )
    assert status.json() == {"id": container, "status_code": "FINISHED", "status": "FINISHED"}
    media = (
        await sandbox.post(f"{IG}/42/media_publish", headers=BEARER, data={"creation_id": container})
    ).json()["id"]
    published = await sandbox.get(f"{IG}/{container}", headers=BEARER, params={"fields": "status_code"})
    assert published.json()["status_code"] == "PUBLISHED"
    link = await sandbox.get(f"{IG}/{media}", headers=BEARER, params={"fields": "permalink"})
    assert link.json()["permalink"].startswith("https://www.instagram.com/p/")
    listing = await sandbox.get(f"{IG}/42/media", headers=BEARER, params={"fields": "id,caption,timestamp"})
    assert [item["id"] for item in listing.json()["data"]] == [media]
    missing = await sandbox.post(f"{IG}/42/media", data={"image_url": "https://cdn.test/a.jpg"})
    assert missing.json()["error"]["code"] == 190


async def test_instagram_personal_account_fault_and_unknown_objects(sandbox):
    await faults(sandbox, instagramPersonal=["7"])
    personal = await sandbox.post(
        f"{IG}/7/media", headers=BEARER, data={"image_url": "https://cdn.test/a.jpg"}
    )
    assert personal.json()["error"]["code"] == 10
    assert personal.json()["error"]["message"] == "The user is not an Instagram Business"
    business = await sandbox.post(
        f"{IG}/8/media", headers=BEARER, data={"image_url": "https://cdn.test/a.jpg"}
    )
    assert business.status_code == 200
    unknown = await sandbox.get(f"{IG}/nope", headers=BEARER)
    assert (unknown.json()["error"]["code"], unknown.json()["error"]["error_subcode"]) == (100, 33)


async def test_twilio_answers_201_and_checks_numbers_and_auth(sandbox):
    url = "/twilio/2010-04-01/Accounts/AC1/Messages.json"
    form = {
        "To": "+15551234567",
        "From": "+15550000000",
        "Body": "hi",
        "MediaUrl": ["https://cdn.test/a.jpg", "https://cdn.test/b.jpg"],
    }
    sent = await sandbox.post(url, data=form, auth=("AC1", "token"))
    assert sent.status_code == 201 and sent.json()["sid"].startswith("SM") and sent.json()["num_media"] == "2"
    assert (await records(sandbox))["twilio"]["messages"][0]["media_urls"] == form["MediaUrl"]
    assert (await sandbox.post(url, data=form, auth=("AC1", ""))).json()["code"] == 20003
    assert (await sandbox.post(url, data={**form, "To": "555"}, auth=("AC1", "t"))).json()["code"] == 21211


def signed(body: dict, secret: str = "sandbox-secret", key: str = "sp_1") -> dict:
    raw = json.dumps(body).encode()
    return {
        "content": raw,
        "headers": {
            "Idempotency-Key": key,
            "Content-Type": "application/json",
            "X-Crier-Signature": sign(secret, int(time.time()), raw),
        },
    }


async def test_managed_provider_verifies_signatures_and_dedupes_on_idempotency_key(sandbox):
    body = {
        "scheduledPostId": "sp_1",
        "platform": "tiktok",
        "account": {"externalAccountId": "o", "handle": "h"},
        "mediaType": "video",
        "media": ["https://cdn.test/v.mp4"],
        "caption": "c",
    }
    bad = await sandbox.post("/managed/v1/dispatches", **signed(body, secret="wrong"))
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_signature"
    first = await sandbox.post("/managed/v1/dispatches", **signed(body))
    second = await sandbox.post("/managed/v1/dispatches", **signed(body))
    assert first.status_code == second.status_code == 202
    assert first.json()["dispatchId"] == second.json()["dispatchId"]
    changed = await sandbox.post("/managed/v1/dispatches", **signed({**body, "caption": "other"}))
    assert changed.status_code == 409
    dispatch_id = first.json()["dispatchId"]
    assert (await sandbox.get(f"/managed/v1/dispatches/{dispatch_id}")).json()["status"] == "pending"
    await asyncio.sleep(0.06)
    done = (await sandbox.get(f"/managed/v1/dispatches/{dispatch_id}")).json()
    assert done["status"] == "published" and done["externalUrl"].endswith(done["externalId"])
    state = await records(sandbox)
    assert len(state["managed"]["dispatches"]) == 1 and state["managed"]["requests"] == 4


async def test_call_faults_answer_n_times_then_clear(sandbox):
    await faults(
        sandbox,
        calls=[
            {"endpoint": "tiktok.video_init", "times": 2, "status": 500},
            {"endpoint": "tiktok.creator_info", "status": 429, "retryAfter": 3},
        ],
    )
    answers = [await sandbox.post(f"{TT}/video/init/", headers=BEARER, json=VIDEO_BODY) for _ in range(3)]
    assert [a.status_code for a in answers] == [500, 500, 200]
    assert answers[0].json()["error"]["code"] == "internal_error"
    limited = await sandbox.post(f"{TT}/creator_info/query/", headers=BEARER)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"


async def test_applied_fault_creates_the_post_and_still_answers_the_error(sandbox):
    await faults(sandbox, calls=[{"endpoint": "tiktok.video_init", "status": 500, "apply": True}])
    answer = await sandbox.post(f"{TT}/video/init/", headers=BEARER, json=VIDEO_BODY)
    assert answer.status_code == 500
    assert len((await records(sandbox))["tiktok"]["publishes"]) == 1


async def test_platform_error_codes_and_latency_can_be_scripted(sandbox):
    await faults(
        sandbox,
        calls=[
            {"endpoint": "instagram.media_publish", "error": 9, "subcode": 2207042},
            {"endpoint": "instagram.media_create", "latency": 0.1},
        ],
    )
    capped = await sandbox.post(f"{IG}/1/media_publish", headers=BEARER, data={"creation_id": "x"})
    assert capped.status_code == 400 and capped.json()["error"]["error_subcode"] == 2207042
    started = time.monotonic()
    slow = await sandbox.post(f"{IG}/1/media", headers=BEARER, data={"image_url": "https://cdn.test/a.jpg"})
    assert slow.status_code == 200 and time.monotonic() - started >= 0.1


async def test_records_count_creations_per_caption_and_reset_forgets(sandbox):
    for _ in range(2):
        await sandbox.post(f"{TT}/video/init/", headers=BEARER, json=VIDEO_BODY)
    state = await records(sandbox)
    assert state["createdPerCaption"]["tiktok"] == {"clip": 2}
    assert state["duplicates"] == [{"platform": "tiktok", "caption": "clip", "count": 2}]
    assert state["calls"]["tiktok.video_init"] == 2
    await sandbox.post("/_sandbox/reset")
    assert (await records(sandbox))["tiktok"]["publishes"] == []


async def test_unknown_fault_endpoints_and_config_keys_are_refused(sandbox):
    assert (await sandbox.post("/_sandbox/faults", json={"calls": [{"endpoint": "nope"}]})).status_code == 400
    assert (await sandbox.post("/_sandbox/config", json={"bogus": 1})).status_code == 400
    changed = await sandbox.post("/_sandbox/config", json={"processingSeconds": 2})
    assert changed.json()["processingSeconds"] == 2
    assert changed.json()["tiktokCreatorUsername"] == "creator"  # Crier's test accounts are @creator
