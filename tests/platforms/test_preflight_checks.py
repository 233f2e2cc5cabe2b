"""The platform rules preflight applies (platforms.preflight), without any I/O."""

from __future__ import annotations

from crier.platforms.preflight import caption_problems, creator_problems, media_problems

CREATOR = {
    "privacy_level_options": ["PUBLIC_TO_EVERYONE", "SELF_ONLY"],
    "comment_disabled": False,
    "duet_disabled": True,
    "stitch_disabled": False,
    "max_video_post_duration_sec": 60,
}


def codes(problems) -> list[str]:
    return [problem.code for problem in problems]


def test_a_video_longer_than_the_creator_may_post_is_a_problem_when_its_duration_is_known():
    assert codes(
        creator_problems(CREATOR, settings={}, media_type="video", durations=[75.0], field="body.targets.0")
    ) == ["TIKTOK_VIDEO_TOO_LONG"]
    assert creator_problems(CREATOR, settings={}, media_type="video", durations=[], field="f") == []


def test_a_disabled_duet_cannot_be_asked_for_but_photos_have_no_duets():
    asked = {"disableDuet": False}
    assert codes(creator_problems(CREATOR, settings=asked, media_type="video", durations=[], field="f")) == [
        "TIKTOK_INTERACTION_DISABLED"
    ]
    assert creator_problems(CREATOR, settings=asked, media_type="multi", durations=[], field="f") == []


def test_caption_limits_per_platform_and_mode():
    long = "x" * 2201
    assert codes(
        caption_problems(platform="tiktok", mode="publish", media_type="video", caption=long, field="caption")
    ) == ["CAPTION_TOO_LONG"]
    assert (
        caption_problems(platform="tiktok", mode="publish", media_type="image", caption=long, field="c") == []
    )
    assert codes(
        caption_problems(
            platform="instagram",
            mode="publish",
            media_type="image",
            caption=" ".join(f"@u{i}" for i in range(21)),
            field="c",
        )
    ) == ["TOO_MANY_MENTIONS"]
    assert (
        caption_problems(platform="instagram", mode="draft", media_type="image", caption=long, field="c")
        == []
    )
    assert (
        caption_problems(platform="tiktok", mode="managed", media_type="video", caption=long, field="c") == []
    )


def test_an_instagram_carousel_over_ten_items_is_a_problem():
    assert codes(media_problems(platform="instagram", mode="publish", media_count=11, field="f")) == [
        "IG_CAROUSEL_TOO_LARGE"
    ]
    assert media_problems(platform="tiktok", mode="publish", media_count=11, field="f") == []
