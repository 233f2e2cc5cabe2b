"""One JSON access-log line per request (issue 12): method, route template, status, duration, ids."""

from __future__ import annotations

import json
import logging

import pytest

from crier.core.logging import JsonFormatter, uvicorn_log_config


@pytest.fixture
def access_lines(caplog):
    caplog.set_level(logging.INFO, logger="crier.access")

    def lines() -> list[dict]:
        return [
            json.loads(JsonFormatter().format(record))
            for record in caplog.records
            if record.name == "crier.access"
        ]

    return lines


async def test_an_authenticated_request_logs_one_line_with_key_and_organization(client, tenant, access_lines):
    response = await client.get(
        f"/v1/projects/{tenant.project['id']}/approval-policy",
        headers={**tenant.headers, "X-Request-Id": "req-from-partner"},
    )

    [line] = access_lines()
    assert line["msg"] == "request" and line["logger"] == "crier.access" and line["level"] == "info"
    assert line["method"] == "GET"
    assert line["route"] == "/v1/projects/{project_id}/approval-policy"
    assert line["status"] == response.status_code == 200
    assert isinstance(line["durationMs"], float) and line["durationMs"] >= 0
    assert line["requestId"] == "req-from-partner"
    assert line["keyId"] == tenant.key["id"]
    assert line["organizationId"] == tenant.organization["id"]
    assert tenant.key["key"] not in json.dumps(line)


async def test_a_refused_request_logs_its_status_and_no_caller(client, access_lines):
    response = await client.get("/v1/social-accounts")

    [line] = access_lines()
    assert line["status"] == response.status_code == 401
    assert line["route"] == "/v1/social-accounts"
    assert line["keyId"] is None and line["organizationId"] is None
    assert line["requestId"] == response.headers["x-request-id"]


async def test_an_unexpected_error_is_logged_as_the_500_the_partner_got(app, client, access_lines):
    @app.get("/_test/explode")
    async def explode():
        raise RuntimeError("boom")

    try:
        response = await client.get("/_test/explode")
    finally:
        app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != "/_test/explode"]

    lines = access_lines()
    assert response.status_code == 500
    assert [(line["route"], line["status"]) for line in lines] == [("/_test/explode", 500)]
    assert lines[0]["requestId"] == response.headers["x-request-id"]


def test_uvicorn_lines_are_json_too():
    config = uvicorn_log_config("INFO")

    assert config["formatters"]["json"]["()"] == "crier.core.logging.JsonFormatter"
    assert config["loggers"]["uvicorn"]["handlers"] == ["json"]
    assert config["root"]["handlers"] == ["json"]


async def test_the_access_log_can_be_turned_off_while_metrics_still_count(access_lines):
    import httpx

    from crier.observability.access import AccessLogMiddleware

    async def hello(scope, receive, send):
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    quiet = AccessLogMiddleware(hello, log_requests=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=quiet), base_url="http://crier.test"
    ) as http:
        from crier.observability import metrics

        before = metrics.HTTP_REQUESTS.labels("GET", "<unmatched>", "204")._value.get()
        assert (await http.get("/anything")).status_code == 204

    assert access_lines() == []
    assert metrics.HTTP_REQUESTS.labels("GET", "<unmatched>", "204")._value.get() == before + 1
