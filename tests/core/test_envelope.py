"""CONTRACT §2: every error leaves Crier as {"error": {code, message, requestId, details}}."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from crier.app import create_app
from crier.core import db
from tests.support.factories import content_body, error_of


async def _content_rows(session) -> int:
    return await session.scalar(text("SELECT count(*) FROM content_containers"))


async def test_unknown_route_is_404_not_found(client):
    error = error_of(await client.get("/v1/no-such-thing"), 404, "NOT_FOUND")

    assert error["details"] == {}


async def test_wrong_method_is_405_with_allow(client, tenant):
    response = await client.put("/v1/social-accounts", json={}, headers=tenant.headers)

    error_of(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"


async def test_malformed_json_is_422_validation(client, tenant, session):
    response = await client.post(
        "/v1/content",
        content=b'{"projectId": ',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )

    error = error_of(response, 422, "VALIDATION")
    assert [e["path"] for e in error["details"]["errors"]] == ["body"]
    assert error["details"]["errors"][0]["message"].startswith("Malformed JSON")
    assert await _content_rows(session) == 0


async def test_a_body_that_is_not_an_object_is_422_validation(client, tenant):
    response = await client.post("/v1/content", json=["not", "an", "object"], headers=tenant.headers)

    error = error_of(response, 422, "VALIDATION")
    assert [e["path"] for e in error["details"]["errors"]] == ["body"]


async def test_an_unknown_body_field_is_422_validation_with_its_path(client, tenant, session):
    body = content_body(tenant.project["id"], surprise=True)

    response = await client.post("/v1/content", json=body, headers=tenant.headers)

    error = error_of(response, 422, "VALIDATION")
    assert error["details"]["errors"] == [{"path": "body.surprise", "message": "Unknown field."}]
    assert await _content_rows(session) == 0


async def test_validation_errors_list_every_failing_path_in_camel_case(client, tenant):
    body = {"projectId": tenant.project["id"], "mediaType": "gif", "media": []}

    response = await client.post("/v1/content", json=body, headers=tenant.headers)

    error = error_of(response, 422, "VALIDATION")
    assert {e["path"] for e in error["details"]["errors"]} == {"body.mediaType", "body.media"}
    assert all(isinstance(e["message"], str) and e["message"] for e in error["details"]["errors"])
    assert "detail" not in response.json()


@pytest.fixture
async def fresh_client():
    """A throwaway app instance: routes added to it never touch the shared app."""
    app = create_app()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://crier.test") as http:
        yield app, http


async def test_an_unexpected_exception_is_500_internal_without_internals(fresh_client):
    app, http = fresh_client

    @app.get("/v1/explode")
    async def explode():
        raise RuntimeError("password=hunter2 at /srv/crier/secret.py line 42")

    response = await http.get("/v1/explode")

    error = error_of(response, 500, "INTERNAL")
    assert error["details"] == {}
    assert (
        "hunter2" not in response.text
        and "RuntimeError" not in response.text
        and "secret.py" not in response.text
    )


async def test_database_down_is_503_unavailable_with_retry_after(client, tenant, monkeypatch):
    dead = db.make_engine("postgresql://crier@127.0.0.1:1/crier", pooled=False)
    monkeypatch.setattr(db, "get_sessionmaker", lambda: async_sessionmaker(dead))

    response = await client.get("/v1/social-accounts", headers=tenant.headers)

    error_of(response, 503, "UNAVAILABLE")
    assert response.headers["retry-after"] == "2"
    assert "127.0.0.1" not in response.text


@pytest.mark.parametrize(
    "error",
    [FileNotFoundError(2, "No such file", "/srv/crier/catalog.json"), TimeoutError("a bug's own timeout")],
    ids=["OSError", "TimeoutError"],
)
async def test_an_os_error_from_crier_itself_is_a_500_with_its_traceback_logged(fresh_client, caplog, error):
    app, http = fresh_client

    @app.get("/v1/missing-file")
    async def missing_file():
        raise error

    response = await http.get("/v1/missing-file")

    error_of(response, 500, "INTERNAL")
    assert any(record.exc_info and record.exc_info[1] is error for record in caplog.records)


async def test_an_exhausted_connection_pool_is_503_with_retry_after_and_writes_nothing(
    client, tenant, session, monkeypatch
):
    tiny = db.create_async_engine(
        db.async_url(db.get_settings().database_url), pool_size=1, max_overflow=0, pool_timeout=0.2
    )
    monkeypatch.setattr(db, "get_sessionmaker", lambda: async_sessionmaker(tiny, expire_on_commit=False))
    try:
        async with tiny.connect() as held:  # the only connection is busy for the whole request
            await held.execute(text("SELECT 1"))
            response = await client.post(
                "/v1/content", json=content_body(tenant.project["id"]), headers=tenant.headers
            )
    finally:
        await tiny.dispose()

    error = error_of(response, 503, "UNAVAILABLE")
    assert error["details"] == {"reason": "overloaded"}
    assert response.headers["retry-after"] == "1"
    assert await _content_rows(session) == 0


@pytest.mark.parametrize("method", ["OPTIONS", "PUT", "PATCH", "POST"])
async def test_a_405_lists_every_method_the_path_allows(client, tenant, method):
    response = await client.request(
        method, "/v1/scheduled-posts/sp_00000000-0000-4000-8000-000000000000", headers=tenant.headers
    )

    error_of(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "DELETE, GET"
