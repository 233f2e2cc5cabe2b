"""CONTRACT §9: `GET /v1/tiktok-music` lists the catalog as {items: [{id, title, artist}]}."""

from __future__ import annotations


async def test_the_catalog_lists_tracks_by_artist_then_title_without_links(client, admin, tenant):
    await admin.music(
        [
            {"id": "t1", "title": "Zebra", "artist": "Alpha", "link": "https://music.example.com/1"},
            {"id": "t2", "title": "Song", "artist": "Beta", "link": "https://music.example.com/2"},
            {"id": "t3", "title": "Apple", "artist": "Alpha", "link": "https://music.example.com/3"},
        ]
    )

    response = await client.get("/v1/tiktok-music", headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {"id": "t3", "title": "Apple", "artist": "Alpha"},
            {"id": "t1", "title": "Zebra", "artist": "Alpha"},
            {"id": "t2", "title": "Song", "artist": "Beta"},
        ]
    }


async def test_an_empty_catalog_lists_no_tracks(client, tenant):
    response = await client.get("/v1/tiktok-music", headers=tenant.headers)

    assert response.json() == {"items": []}
