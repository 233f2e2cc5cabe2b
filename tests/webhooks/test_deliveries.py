"""WEBHOOKS.md §1–2: test ping, the deliveries log (filters, keyset cursor), replay, the event body."""

from __future__ import annotations

import json
import re

from tests.publishing.helpers import assert_error, sql, write_sql

EVENT_ID = re.compile(r"evt_[0-9A-HJKMNP-TV-Z]{26}")
DELIVERY_ID = re.compile(r"whd_[0-9a-f-]{36}")
WIRE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


async def test_test_ping_queues_one_event_to_that_endpoint_only(client, tenant, create_endpoint, session):
    endpoint = (await create_endpoint(events=["test.ping"]))["endpoint"]
    await create_endpoint(events=["test.ping"])  # another endpoint of the organization hears nothing
    response = await client.post(f"/v1/webhook-endpoints/{endpoint['id']}/test", headers=tenant.headers)
    assert response.status_code == 202, response.text
    delivery = response.json()
    assert DELIVERY_ID.fullmatch(delivery["id"]) and EVENT_ID.fullmatch(delivery["eventId"])
    assert delivery | {"id": None, "eventId": None, "createdAt": None, "nextRetryAt": None} == {
        "id": None,
        "endpointId": endpoint["id"],
        "eventId": None,
        "eventType": "test.ping",
        "status": "pending",
        "attempts": 0,
        "nextRetryAt": None,
        "deliveredAt": None,
        "abandonedAt": None,
        "lastResponseStatus": None,
        "lastResponseAt": None,
        "lastErrorMessage": None,
        "createdAt": None,
    }
    rows = await sql(session, "SELECT endpoint_id FROM webhook_deliveries")
    assert rows == [(endpoint["id"],)]
    [(body,)] = await sql(session, "SELECT body FROM webhook_events")
    event = json.loads(body)
    assert set(event) == {"id", "type", "createdAt", "organizationId", "projectId", "data"}
    assert (event["id"], event["type"], event["organizationId"], event["data"]) == (
        delivery["eventId"],
        "test.ping",
        tenant.organization["id"],
        {"endpointId": endpoint["id"]},
    )
    assert WIRE_TIME.fullmatch(event["createdAt"])


async def test_event_ids_are_ulids_in_time_order(client, tenant, create_endpoint):
    endpoint_id = (await create_endpoint(events=["test.ping"]))["endpoint"]["id"]
    ids = [
        (await client.post(f"/v1/webhook-endpoints/{endpoint_id}/test", headers=tenant.headers)).json()[
            "eventId"
        ]
        for _ in range(3)
    ]
    assert all(EVENT_ID.fullmatch(event_id) for event_id in ids) and len(set(ids)) == 3
    assert [event_id[4:14] for event_id in ids] == sorted(event_id[4:14] for event_id in ids)  # the time part


async def test_deliveries_newest_first_with_filters_and_cursor(client, tenant, create_endpoint, session):
    endpoint_id = (await create_endpoint(events=["test.ping"]))["endpoint"]["id"]
    made = [
        (await client.post(f"/v1/webhook-endpoints/{endpoint_id}/test", headers=tenant.headers)).json()["id"]
        for _ in range(3)
    ]
    await write_sql(session, "UPDATE webhook_deliveries SET status = 'delivered' WHERE id = :id", id=made[0])
    path = f"/v1/webhook-endpoints/{endpoint_id}/deliveries"
    page = (await client.get(path, params={"limit": 2}, headers=tenant.headers)).json()
    assert [item["id"] for item in page["items"]] == made[::-1][:2] and page["nextCursor"]
    rest = (
        await client.get(path, params={"limit": 2, "cursor": page["nextCursor"]}, headers=tenant.headers)
    ).json()
    assert [item["id"] for item in rest["items"]] == [made[0]] and rest["nextCursor"] is None
    delivered = (await client.get(path, params={"status": "delivered"}, headers=tenant.headers)).json()
    assert [item["id"] for item in delivered["items"]] == [made[0]]
    by_type = (await client.get(path, params={"eventType": "post.failed"}, headers=tenant.headers)).json()
    assert by_type["items"] == []
    assert "body" not in json.dumps(page) and "data" not in page["items"][0]
    for params in ({"status": "lost"}, {"limit": 0}, {"limit": 101}, {"cursor": "bogus"}):
        assert_error(await client.get(path, params=params, headers=tenant.headers), 422, "VALIDATION")


async def test_replay_sends_the_same_data_as_a_new_event(client, tenant, create_endpoint, session):
    endpoint_id = (await create_endpoint(events=["test.ping"]))["endpoint"]["id"]
    original = (await client.post(f"/v1/webhook-endpoints/{endpoint_id}/test", headers=tenant.headers)).json()
    response = await client.post(f"/v1/webhook-deliveries/{original['id']}/replay", headers=tenant.headers)
    assert response.status_code == 202, response.text
    replay = response.json()
    assert replay["id"] != original["id"] and replay["eventId"] != original["eventId"]
    assert (replay["endpointId"], replay["eventType"], replay["status"]) == (
        endpoint_id,
        "test.ping",
        "pending",
    )
    bodies = dict(await sql(session, "SELECT id, body FROM webhook_events"))
    first, again = json.loads(bodies[original["eventId"]]), json.loads(bodies[replay["eventId"]])
    assert again["replayOf"] == original["eventId"] and "replayOf" not in first
    assert again["data"] == first["data"] and again["type"] == first["type"]
