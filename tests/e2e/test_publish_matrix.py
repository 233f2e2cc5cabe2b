"""Every mode × platform × media type the seed allows, from POST /publish to a terminal state.

The real worker delivers each post to the sandbox. Each cell asserts the post's final wire state (GET /v1/scheduled-posts/{id}) and what the sandbox
received: exactly one creation, carrying the caption actually sent (the target's captionOverride,
never the container's caption).
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.support import (
    MANAGED_SECRET,
    TIKTOK_ONLY_FIELDS,
    TWILIO_FROM,
    assert_draft,
    assert_published,
    created_only,
    signed,
    target,
)

MEDIA_TYPES = ("video", "image", "multi")
CONTAINER_CAPTION = "container caption never sent"
CONTAINER_COMMENT = "container comment never sent"
IG_USER = "17841400000000001"  # the tenant's Instagram account (externalAccountId)
OPERATOR_PHONE = "+15555550100"  # the tenant organization's verified primary operator phone


def media_urls(content: dict) -> list[str]:
    return [item["url"] for item in content["media"]]


def photo_body(content: dict, *, post_mode: str, post_info: dict) -> dict:
    return {
        "media_type": "PHOTO",
        "post_mode": post_mode,
        "post_info": post_info,
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_images": media_urls(content),
            "photo_cover_index": 0,
        },
    }


async def overridden_content(partner, media_type: str) -> dict:
    return await partner.content(media_type, caption=CONTAINER_CAPTION, firstComment=CONTAINER_COMMENT)


# --------------------------------------------------------------------------------------------------
# TikTok


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
async def test_tiktok_publish_lands_published_with_the_public_post_url(partner, sandbox, media_type):
    content = await overridden_content(partner, media_type)
    caption = f"tiktok publish {media_type} override"
    music = {} if media_type == "video" else {"tiktokMusic": {"mode": "auto"}}
    [post_id] = await partner.publish(
        content, target(partner.tiktok, "publish", captionOverride=caption, **music)
    )

    post = await partner.settled(post_id)

    seen = await sandbox.records()
    [live] = seen["tiktok"]["posts"]
    post_id_on_tiktok = str(live["post_id"])  # an int64 above 2^53: must survive exactly
    handle = partner.tiktok["handle"]
    assert_published(
        post,
        external_id=post_id_on_tiktok,
        external_url=f"https://www.tiktok.com/@{handle}/video/{post_id_on_tiktok}",
    )
    assert seen["createdPerCaption"] == created_only("tiktok", caption)
    [publish] = seen["tiktok"]["publishes"]
    if media_type == "video":
        assert publish["request"] == {
            "post_info": {
                "title": caption,
                "privacy_level": "PUBLIC_TO_EVERYONE",
                "disable_duet": False,
                "disable_comment": False,
                "disable_stitch": False,
                "brand_content_toggle": False,
                "brand_organic_toggle": False,
            },
            "source_info": {"source": "PULL_FROM_URL", "video_url": media_urls(content)[0]},
        }
    else:
        assert publish["request"] == photo_body(
            content,
            post_mode="DIRECT_POST",
            post_info={
                "title": caption,
                "description": caption,
                "privacy_level": "PUBLIC_TO_EVERYONE",
                "disable_comment": False,
                "auto_add_music": True,
                "brand_content_toggle": False,
                "brand_organic_toggle": False,
            },
        )
    init = "tiktok.video_init" if media_type == "video" else "tiktok.content_init"
    assert seen["calls"]["tiktok.creator_info"] == 1 and seen["calls"][init] == 1
    assert {h.path.split("/")[1] for h in sandbox.tap.heard} == {"tiktok"}


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
async def test_tiktok_draft_lands_in_the_creators_inbox(partner, sandbox, media_type):
    content = await overridden_content(partner, media_type)
    caption = f"tiktok draft {media_type} override"
    [post_id] = await partner.publish(content, target(partner.tiktok, "draft", captionOverride=caption))

    post = await partner.settled(post_id)

    seen = await sandbox.records()
    [publish] = seen["tiktok"]["publishes"]
    assert_draft(post, external_id=publish["publish_id"])
    assert publish["status"] == "SEND_TO_USER_INBOX" and seen["tiktok"]["posts"] == []
    if media_type == "video":
        # An inbox video takes only its source: the creator writes the caption in the app.
        assert publish["request"] == {
            "source_info": {"source": "PULL_FROM_URL", "video_url": media_urls(content)[0]}
        }
        assert seen["createdPerCaption"] == created_only("tiktok", media_urls(content)[0])
    else:
        assert publish["request"] == photo_body(
            content, post_mode="MEDIA_UPLOAD", post_info={"title": caption, "description": caption}
        )
        assert seen["createdPerCaption"] == created_only("tiktok", caption)
    # A draft needs only video.upload: no creator_info (a direct-post call) is made.
    assert "tiktok.creator_info" not in seen["calls"]


# --------------------------------------------------------------------------------------------------
# Instagram


@pytest.mark.parametrize("media_type, placement", [("image", "p"), ("video", "reel"), ("multi", "p")])
async def test_instagram_publish_lands_published_with_the_permalink(partner, sandbox, media_type, placement):
    content = await overridden_content(partner, media_type)
    caption, comment = f"instagram publish {media_type} override", f"first comment on the {media_type}"
    # TikTok-only knobs on an Instagram target are accepted and silently ignored (the seed).
    tiktok_only = {
        "tiktokPostSettings": {"privacyLevel": "SELF_ONLY", "disableComment": True},
        "tiktokMusic": {"mode": "auto"},
    }
    [post_id] = await partner.publish(
        content,
        target(
            partner.instagram, "publish", captionOverride=caption, firstCommentOverride=comment, **tiktok_only
        ),
    )

    post = await partner.settled(post_id)

    seen = await sandbox.records()
    [media] = seen["instagram"]["media"]
    assert_published(post, external_id=media["id"], external_url=media["permalink"])
    assert re.fullmatch(rf"https://www\.instagram\.com/{placement}/[\w-]+/", post["externalUrl"])
    assert seen["createdPerCaption"] == created_only("instagram", caption)
    assert seen["instagram"]["comments"] == [
        {"id": seen["instagram"]["comments"][0]["id"], "media_id": media["id"], "message": comment}
    ]

    urls = media_urls(content)
    created = [h.form for h in sandbox.heard("POST", f"/{IG_USER}/media")]
    containers = seen["instagram"]["containers"]
    if media_type == "image":
        assert created == [{"image_url": urls[0], "caption": caption}]
    elif media_type == "video":
        assert created == [
            {"media_type": "REELS", "video_url": urls[0], "caption": caption, "share_to_feed": "true"}
        ]
    else:  # carousel: one captionless item per media, in order, then the parent naming them
        children = [c["id"] for c in containers if c["kind"] == "carousel_image"]
        assert created == [{"is_carousel_item": "true", "image_url": url} for url in urls] + [
            {"media_type": "CAROUSEL", "children": ",".join(children), "caption": caption}
        ]
    [parent] = [c for c in containers if c["media_id"] == media["id"]]
    assert [h.form for h in sandbox.heard("POST", "/media_publish")] == [{"creation_id": parent["id"]}]
    assert sandbox.heard_by("tiktok") == [] and sandbox.heard_by("twilio") == []
    for heard in sandbox.heard_by("instagram"):
        assert not set(heard.fields) & TIKTOK_ONLY_FIELDS, heard


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
async def test_instagram_draft_is_texted_to_the_verified_operator_phone(partner, sandbox, media_type):
    content = await overridden_content(partner, media_type)
    caption = f"instagram draft {media_type} override"
    [post_id] = await partner.publish(content, target(partner.instagram, "draft", captionOverride=caption))

    post = await partner.settled(post_id)

    seen = await sandbox.records()
    [sms] = seen["twilio"]["messages"]
    assert_draft(post, external_id=sms["sid"])
    assert sms["to"] == OPERATOR_PHONE == partner.tenant.organization["primaryOperatorPhone"]
    assert sms["from"] == TWILIO_FROM
    assert sms["media_urls"] == media_urls(content)
    assert sms["body"].endswith(f"\n\n{caption}") and CONTAINER_CAPTION not in sms["body"]
    assert seen["createdPerCaption"] == created_only("twilio", sms["body"])
    [heard] = sandbox.heard("POST", "/Accounts/ACsandbox/Messages.json")
    assert heard.fields["MediaUrl"] == media_urls(content) and heard.fields["To"] == [OPERATOR_PHONE]
    assert sandbox.heard_by("instagram") == [] and sandbox.heard_by("tiktok") == []


# --------------------------------------------------------------------------------------------------
# Managed distribution


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
@pytest.mark.parametrize("platform", ["tiktok", "instagram"])
async def test_managed_is_dispatched_once_to_the_provider_and_lands_published(
    partner, sandbox, managed, platform, media_type
):
    account = managed[platform]
    content = await overridden_content(partner, media_type)
    caption, comment = f"managed {platform} {media_type} override", f"managed {platform} comment"
    [post_id] = await partner.publish(
        content, target(account, "managed", captionOverride=caption, firstCommentOverride=comment)
    )

    post = await partner.settled(post_id)

    seen = await sandbox.records()
    [dispatch] = seen["managed"]["dispatches"]
    assert_published(post, external_id=dispatch["externalId"], external_url=dispatch["externalUrl"])
    if platform == "tiktok":
        assert post["externalUrl"] == f"https://www.tiktok.com/@managed_tt/video/{post['externalId']}"
    else:
        assert re.fullmatch(r"https://www\.instagram\.com/p/[\w-]+/", post["externalUrl"])
    assert seen["createdPerCaption"] == created_only("managed", caption)
    assert dispatch["idempotencyKey"] == post_id
    payload = dispatch["request"]
    assert {
        key: payload[key]
        for key in (
            "scheduledPostId",
            "platform",
            "account",
            "mediaType",
            "media",
            "caption",
            "firstComment",
            "tiktokMusicLink",
        )
    } == {
        "scheduledPostId": post_id,
        "platform": platform,
        "account": {"externalAccountId": account["externalAccountId"], "handle": account["handle"]},
        "mediaType": media_type,
        "media": media_urls(content),
        "caption": caption,
        "firstComment": comment,
        "tiktokMusicLink": None,
    }
    if platform == "instagram":
        assert not payload.get("tiktokPostSettings")  # TikTok-only: nothing to forward for Instagram
    [heard] = sandbox.heard("POST", "/managed/v1/dispatches")
    assert heard.headers["idempotency-key"] == post_id
    assert signed(MANAGED_SECRET, heard.headers["x-crier-signature"], heard.body)
    assert heard.json() == payload
    # The provider posts; Crier itself calls no platform.
    assert {h.path.split("/")[1] for h in sandbox.tap.heard} == {"managed"}


async def test_managed_tiktok_honours_a_manual_track_with_its_catalog_link(partner, sandbox, managed, track):
    content = await partner.content("multi", caption="slideshow with our song")
    [post_id] = await partner.publish(
        content, target(managed.tiktok, "managed", tiktokMusic={"mode": "manual", "trackId": track["id"]})
    )

    post = await partner.settled(post_id)

    assert post["status"] == "published", post
    [dispatch] = (await sandbox.records())["managed"]["dispatches"]
    assert dispatch["request"]["tiktokMusicLink"] == track["link"]
    assert dispatch["request"]["caption"] == "slideshow with our song"


# --------------------------------------------------------------------------------------------------
# What each target's fields become on the platform's wire


async def test_without_overrides_the_containers_caption_and_first_comment_are_sent(partner, sandbox):
    content = await partner.content("image", caption="the container speaks", firstComment="container first")
    tiktok_id, instagram_id = await partner.publish(
        content, target(partner.tiktok, "publish"), target(partner.instagram, "publish")
    )

    assert (await partner.settled(tiktok_id))["status"] == "published"
    assert (await partner.settled(instagram_id))["status"] == "published"

    seen = await sandbox.records()
    assert seen["createdPerCaption"]["tiktok"] == {"the container speaks": 1}
    assert seen["createdPerCaption"]["instagram"] == {"the container speaks": 1}
    assert [comment["message"] for comment in seen["instagram"]["comments"]] == ["container first"]


@pytest.mark.parametrize("media_type", ["video", "image"])
async def test_tiktok_post_settings_map_one_to_one_onto_post_info(partner, sandbox, media_type):
    content = await partner.content(media_type, caption="with settings")
    settings = {
        "privacyLevel": "MUTUAL_FOLLOW_FRIENDS",
        "disableComment": True,
        "disableDuet": True,
        "disableStitch": True,
        "isBrandOrganic": True,
        "isBrandedContent": True,
    }
    [post_id] = await partner.publish(content, target(partner.tiktok, "publish", tiktokPostSettings=settings))

    post = await partner.settled(post_id)

    assert post["status"] == "published" and post["tiktokPostSettings"] == settings, post
    [publish] = (await sandbox.records())["tiktok"]["publishes"]
    post_info = publish["request"]["post_info"]
    expected = {
        "privacy_level": "MUTUAL_FOLLOW_FRIENDS",
        "disable_comment": True,
        "brand_organic_toggle": True,
        "brand_content_toggle": True,
    }
    if media_type == "video":
        expected |= {"disable_duet": True, "disable_stitch": True}
    else:  # photo posts have no duet or stitch (TikTok may refuse them)
        assert "disable_duet" not in post_info and "disable_stitch" not in post_info
    assert {key: post_info[key] for key in expected} == expected


@pytest.mark.parametrize(
    "music, auto_add_music",
    [
        ({"mode": "none"}, False),
        ({"mode": "auto"}, True),
        ({"mode": "manual", "trackId": "8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999"}, True),  # degrades to auto
    ],
)
async def test_tiktok_music_on_a_photo_post_becomes_auto_add_music(
    partner, sandbox, track, music, auto_add_music
):
    content = await partner.content("multi", caption="slideshow")
    [post_id] = await partner.publish(content, target(partner.tiktok, "publish", tiktokMusic=music))

    assert (await partner.settled(post_id))["status"] == "published"

    [publish] = (await sandbox.records())["tiktok"]["publishes"]
    assert publish["request"]["post_info"]["auto_add_music"] is auto_add_music


@pytest.mark.parametrize("share_reel_to_feed, share_to_feed", [(True, "true"), (False, "false")])
async def test_share_reel_to_feed_becomes_share_to_feed_on_the_reel(
    partner, sandbox, share_reel_to_feed, share_to_feed
):
    content = await partner.content("video", caption="a reel")
    [post_id] = await partner.publish(
        content, target(partner.instagram, "publish", shareReelToFeed=share_reel_to_feed)
    )

    post = await partner.settled(post_id)

    assert post["status"] == "published" and post["shareReelToFeed"] is share_reel_to_feed, post
    [reel] = (await sandbox.records())["instagram"]["containers"]
    assert reel["kind"] == "reel" and reel["share_to_feed"] == share_to_feed
