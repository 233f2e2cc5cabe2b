"""CONTRACT §10: the operator API needs the admin token, and is disabled when none is configured."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from crier.core.settings import get_settings
from tests.support.factories import ADMIN_HEADERS, error_of


@pytest.fixture
def admin_token_env(monkeypatch):
    """Change CRIER_ADMIN_TOKEN for one test; the cached settings follow and are restored."""

    def use(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv("CRIER_ADMIN_TOKEN", raising=False)
        else:
            monkeypatch.setenv("CRIER_ADMIN_TOKEN", value)
        get_settings.cache_clear()

    yield use
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize("configured", ["", None], ids=["empty", "unset"])
async def test_operator_api_is_disabled_without_an_admin_token(client, admin_token_env, session, configured):
    admin_token_env(configured)

    response = await client.post("/admin/v1/organizations", json={"name": "Acme"}, headers=ADMIN_HEADERS)

    error_of(response, 404, "NOT_FOUND")
    error_of(await client.get("/admin/v1/organizations", headers=ADMIN_HEADERS), 404, "NOT_FOUND")
    assert await session.scalar(text("SELECT count(*) FROM organizations")) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Basic test-admin-token"},
        {"X-Api-Key": "test-admin-token"},
        {
            "Authorization": "Bearer t\u00f6ken".encode("latin-1")
        },  # non-ASCII must be refused like any wrong token
    ],
    ids=["missing", "wrong", "basic-scheme", "x-api-key", "non-ascii"],
)
async def test_wrong_or_missing_admin_token_is_401(client, headers):
    response = await client.post("/admin/v1/organizations", json={"name": "Acme"}, headers=headers)

    error_of(response, 401, "UNAUTHORIZED")
    listed = await client.get("/admin/v1/organizations", headers=ADMIN_HEADERS)
    assert listed.json() == []


async def test_an_api_key_is_not_an_admin_token(client, tenant):
    response = await client.get("/admin/v1/organizations", headers=tenant.headers)

    error_of(response, 401, "UNAUTHORIZED")
