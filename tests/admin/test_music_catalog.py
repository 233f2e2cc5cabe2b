"""CONTRACT §10: `PUT /admin/v1/tiktok-music` replaces the whole catalog."""

from __future__ import annotations

from sqlalchemy import text

from tests.support.factories import ADMIN_HEADERS, error_of


def track(track_id: str, title: str = "Song", artist: str = "Band") -> dict[str, str]:
    return {"id": track_id, "title": title, "artist": artist, "link": f"https://music.example.com/{track_id}"}


async def test_replacing_the_catalog_keeps_only_the_new_list(client, admin, session):
    await admin.music([track("t1"), track("t2")])

    answer = await admin.music([track("t3", "Third"), track("t2", "Second again")])

    assert answer["items"] == [track("t3", "Third"), track("t2", "Second again")]
    rows = (await session.execute(text("SELECT id, title FROM tiktok_music_tracks ORDER BY id"))).all()
    assert [tuple(row) for row in rows] == [("t2", "Second again"), ("t3", "Third")]


async def test_an_empty_list_empties_the_catalog(admin, session):
    await admin.music([track("t1")])

    assert await admin.music([]) == {"items": []}
    assert await session.scalar(text("SELECT count(*) FROM tiktok_music_tracks")) == 0


async def test_duplicate_track_ids_are_422_and_leave_the_catalog_alone(client, admin, session):
    await admin.music([track("t1")])

    response = await client.put(
        "/admin/v1/tiktok-music", headers=ADMIN_HEADERS, json={"items": [track("t2"), track("t2", "Again")]}
    )

    assert error_of(response, 422, "VALIDATION")["details"]["errors"][0]["path"] == "body.items"
    assert [row[0] for row in (await session.execute(text("SELECT id FROM tiktok_music_tracks"))).all()] == [
        "t1"
    ]


async def test_a_track_needs_every_field(client, session):
    response = await client.put(
        "/admin/v1/tiktok-music",
        headers=ADMIN_HEADERS,
        json={"items": [{"id": "t1", "title": "Song", "artist": "Band"}]},
    )

    assert [e["path"] for e in error_of(response, 422, "VALIDATION")["details"]["errors"]] == [
        "body.items.0.link"
    ]
    assert await session.scalar(text("SELECT count(*) FROM tiktok_music_tracks")) == 0
