"""CONTRACT §10: projects with their approval policy, and layers (signing secrets never returned)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from crier.accounts.readiness import MANAGED_TEMPLATE_ID
from crier.core import crypto
from tests.support.factories import ADMIN_HEADERS, error_of


async def test_create_project_with_an_approval_policy(client, admin, session):
    organization = await admin.organization()

    response = await client.post(
        f"/admin/v1/organizations/{organization['id']}/projects",
        headers=ADMIN_HEADERS,
        json={"name": "Launch", "requiresApproval": True, "firstNPostsBlocked": 3},
    )

    assert response.status_code == 201, response.text
    project = response.json()
    assert project["id"].startswith("prj_")
    assert (project["requiresApproval"], project["firstNPostsBlocked"], project["currentBlockedCount"]) == (
        True,
        3,
        0,
    )
    row = (
        await session.execute(
            text(
                "SELECT organization_id, requires_approval, first_n_posts_blocked, current_blocked_count FROM projects"
            )
        )
    ).one()
    assert tuple(row) == (organization["id"], True, 3, 0)


async def test_a_project_defaults_to_no_approval(admin):
    project = await admin.project((await admin.organization())["id"])

    assert (project["requiresApproval"], project["firstNPostsBlocked"], project["currentBlockedCount"]) == (
        False,
        None,
        0,
    )


async def test_first_n_posts_blocked_cannot_be_negative(client, admin, session):
    organization = await admin.organization()

    response = await client.post(
        f"/admin/v1/organizations/{organization['id']}/projects",
        headers=ADMIN_HEADERS,
        json={"name": "Launch", "requiresApproval": True, "firstNPostsBlocked": -1},
    )

    errors = error_of(response, 422, "VALIDATION")["details"]["errors"]
    assert [e["path"] for e in errors] == ["body.firstNPostsBlocked"]
    assert await session.scalar(text("SELECT count(*) FROM projects")) == 0


async def test_project_in_a_missing_organization_is_404(client):
    response = await client.post(
        f"/admin/v1/organizations/org_{uuid.uuid4()}/projects", headers=ADMIN_HEADERS, json={"name": "Launch"}
    )

    error_of(response, 404, "NOT_FOUND")


async def test_a_managed_layer_keeps_its_signing_secret_encrypted_and_unreturned(client, tenant, session):
    config = {"provider": "acme", "baseUrl": "https://managed.example.com", "signingSecret": "s3cret-signing"}

    response = await client.post(
        f"/admin/v1/projects/{tenant.project['id']}/layers",
        headers=ADMIN_HEADERS,
        json={"templateId": MANAGED_TEMPLATE_ID, "config": config},
    )

    assert response.status_code == 201, response.text
    layer = response.json()
    assert layer["id"].startswith("lyr_")
    assert layer["hasSigningSecret"] is True
    assert layer["config"] == {"provider": "acme", "baseUrl": "https://managed.example.com"}
    assert "s3cret-signing" not in response.text
    stored = (await session.execute(text("SELECT config::text, signing_secret_encrypted FROM layers"))).one()
    assert "s3cret-signing" not in stored[0] and "s3cret-signing" not in stored[1]
    assert crypto.decrypt(stored[1]) == "s3cret-signing"


async def test_every_secret_key_is_taken_out_of_a_layer_config(client, tenant):
    config = {
        "provider": "acme",
        "baseUrl": "https://managed.example.com",
        "signingSecret": "first-secret",
        "secret": "second-secret",
    }

    response = await client.post(
        f"/admin/v1/projects/{tenant.project['id']}/layers",
        headers=ADMIN_HEADERS,
        json={"templateId": MANAGED_TEMPLATE_ID, "config": config},
    )

    assert response.status_code == 201, response.text
    assert "first-secret" not in response.text and "second-secret" not in response.text


async def test_a_layer_without_a_secret_says_so(admin, tenant):
    layer = await admin.layer(tenant.project["id"])

    assert layer["hasSigningSecret"] is False
    assert layer["config"] == {}


@pytest.mark.parametrize(
    "base_url",
    [
        "http://managed.example.com",
        "https://localhost/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/hook",
        "https://[::1]/hook",
    ],
)
async def test_layer_base_url_must_be_https_and_not_private(client, tenant, session, base_url):
    config = {"provider": "acme", "baseUrl": base_url, "signingSecret": "s3cret"}

    response = await client.post(
        f"/admin/v1/projects/{tenant.project['id']}/layers",
        headers=ADMIN_HEADERS,
        json={"templateId": MANAGED_TEMPLATE_ID, "config": config},
    )

    errors = error_of(response, 422, "VALIDATION")["details"]["errors"]
    assert [e["path"] for e in errors] == ["body.config.baseUrl"]
    assert await session.scalar(text("SELECT count(*) FROM layers")) == 0


@pytest.mark.parametrize(
    "config",
    [
        {"provider": "acme", "signingSecret": "s3cret"},
        {"provider": "acme", "baseUrl": "https://managed.example.com"},
    ],
    ids=["no-base-url", "no-secret"],
)
async def test_a_managed_provider_needs_a_base_url_and_a_secret(client, tenant, session, config):
    response = await client.post(
        f"/admin/v1/projects/{tenant.project['id']}/layers",
        headers=ADMIN_HEADERS,
        json={"templateId": MANAGED_TEMPLATE_ID, "config": config},
    )

    assert [e["path"] for e in error_of(response, 422, "VALIDATION")["details"]["errors"]] == ["body.config"]
    assert await session.scalar(text("SELECT count(*) FROM layers")) == 0


async def test_layer_in_a_missing_project_is_404(client):
    response = await client.post(
        f"/admin/v1/projects/prj_{uuid.uuid4()}/layers",
        headers=ADMIN_HEADERS,
        json={"templateId": MANAGED_TEMPLATE_ID, "config": {}},
    )

    error_of(response, 404, "NOT_FOUND")
