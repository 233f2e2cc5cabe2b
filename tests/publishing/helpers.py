"""Helpers shared by the publishing, approval, scheduled-post and idempotency tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text


def later(**delta: float) -> str:
    """An RFC 3339 time in the future (an hour ahead unless told otherwise)."""
    return (datetime.now(UTC) + timedelta(**(delta or {"hours": 1}))).isoformat().replace("+00:00", "Z")


def sp_id() -> str:
    return f"sp_{uuid.uuid4()}"


def target(account: dict[str, Any], mode: str = "publish", **fields: Any) -> dict[str, Any]:
    return {"socialAccountId": account["id"], "mode": mode, **fields}


async def publish(tenant, container_id: str, targets: list[dict[str, Any]], **headers: str):
    return await tenant.client.post(
        f"/v1/content/{container_id}/publish",
        json={"targets": targets},
        headers={**tenant.headers, **headers},
    )


async def schedule(
    tenant, container_id: str, targets: list[dict[str, Any]], scheduled_for: str | None = None, **headers: str
):
    body = {"targets": targets, "scheduledFor": scheduled_for or later()}
    return await tenant.client.post(
        f"/v1/content/{container_id}/schedule", json=body, headers={**tenant.headers, **headers}
    )


async def sql(session, statement: str, **params: Any) -> list[Any]:
    """Rows of a query, read in a transaction of its own (so the test never holds locks or a snapshot)."""
    try:
        return list((await session.execute(text(statement), params)).all())
    finally:
        await session.rollback()


async def count_posts(session, where: str = "true", **params: Any) -> int:
    return (await sql(session, f"SELECT count(*) FROM scheduled_posts WHERE {where}", **params))[0][0]


def error_of(response) -> dict[str, Any]:
    return response.json()["error"]


def assert_error(response, http_status: int, code: str, **details: Any) -> dict[str, Any]:
    """The response is the envelope with this status and code, carrying at least these details."""
    assert response.status_code == http_status, response.text
    error = error_of(response)
    assert error["code"] == code, error
    assert error["requestId"] == response.headers["x-request-id"]
    for name, value in details.items():
        assert error["details"].get(name) == value, error
    return error


async def write_sql(session, statement: str, **params: Any) -> None:
    """Change rows behind the API's back (what a worker or an operator would do), committed."""
    await session.execute(text(statement), params)
    await session.commit()
