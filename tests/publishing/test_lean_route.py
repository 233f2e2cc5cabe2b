"""crier.api.lean: a well-formed publish skips FastAPI's machinery; anything else gets FastAPI's answer."""

from __future__ import annotations

import json

from crier.api.lean import LeanDispatch
from crier.publishing.endpoints import router
from tests.publishing.helpers import count_posts, error_of, later, sp_id, target


def test_publish_and_schedule_have_a_lean_handler():
    dispatch = LeanDispatch(lambda *_: None, routers=[router])
    assert {(lean.route.path, *lean.methods) for lean in dispatch.routes} == {
        ("/v1/content/{container_id}/publish", "POST"),
        ("/v1/content/{container_id}/schedule", "POST"),
    }


async def _post(tenant, path: str, body: bytes, **headers: str):
    return await tenant.client.post(path, content=body, headers={**tenant.headers, **headers})


async def test_a_well_formed_publish_with_a_charset_is_accepted(client, tenant, session):
    content = await tenant.content()
    body = json.dumps({"targets": [target(tenant.tiktok)]}).encode()
    response = await _post(
        tenant,
        f"/v1/content/{content['id']}/publish",
        body,
        **{"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    assert await count_posts(session) == 1


async def test_another_content_type_gets_fastapis_refusal(client, tenant, session):
    content = await tenant.content()
    body = json.dumps({"targets": [target(tenant.tiktok)]}).encode()
    response = await _post(
        tenant, f"/v1/content/{content['id']}/publish", body, **{"Content-Type": "text/plain"}
    )
    assert response.status_code == 422, response.text
    assert error_of(response)["code"] == "VALIDATION"
    assert await count_posts(session) == 0


async def test_an_overlong_idempotency_key_is_fastapis_422_naming_the_header(client, tenant, session):
    content = await tenant.content()
    body = json.dumps({"targets": [target(tenant.tiktok)], "scheduledFor": later()}).encode()
    for route in ("publish", "schedule"):
        response = await _post(
            tenant,
            f"/v1/content/{content['id']}/{route}",
            body if route == "schedule" else json.dumps({"targets": [target(tenant.tiktok)]}).encode(),
            **{"Content-Type": "application/json", "Idempotency-Key": "k" * 256},
        )
        error = error_of(response)
        assert response.status_code == 422, response.text
        assert [e["path"] for e in error["details"]["errors"]] == ["header.Idempotency-Key"]
    assert await count_posts(session) == 0


async def test_a_body_the_schema_refuses_without_a_key_is_still_401_first(client, tenant, session):
    # FastAPI's order: authentication (a dependency) before the body's schema (JSON syntax comes first).
    content = await tenant.content()
    for body, status in ((b'{"targets": []}', 401), (b"{not json", 422)):
        response = await tenant.client.post(
            f"/v1/content/{content['id']}/publish", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == status, response.text


async def test_a_malformed_body_gets_fastapis_field_paths(client, tenant, session):
    content = await tenant.content()
    body = json.dumps({"targets": [target(tenant.tiktok, mode="sideways", scheduledPostId=sp_id())]}).encode()
    response = await _post(
        tenant, f"/v1/content/{content['id']}/publish", body, **{"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert [e["path"] for e in error_of(response)["details"]["errors"]] == ["body.targets.0.mode"]
