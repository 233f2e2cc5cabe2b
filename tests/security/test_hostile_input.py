"""What fuzzing found, pinned: input PostgreSQL cannot store is a 422 VALIDATION, never a 500.

Each case here was a 500 (or an undocumented 400) that schemathesis reached in test_schemathesis.py.
"""

from __future__ import annotations

import pytest

from crier.accounts.readiness import MANAGED_TEMPLATE_ID
from tests.support.factories import ADMIN_HEADERS, content_body, error_of


def _paths(error: dict) -> list[str]:
    return [item["path"] for item in error["details"]["errors"]]


async def test_a_body_that_is_not_utf8_is_422_validation_not_400(client, tenant):
    response = await client.post(
        "/v1/content",
        content=b"\xff\xfe\x00{",
        headers={**tenant.headers, "Content-Type": "application/json"},
    )

    error = error_of(response, 422, "VALIDATION")
    assert _paths(error) == ["body"]
    assert error["details"]["errors"][0]["message"].startswith("Malformed JSON")


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"caption": "nul \u0000 inside"}, "body.caption"),
        ({"media": [{"url": "https://cdn.example.com/a\u0000.mp4"}]}, "body.media.0.url"),
    ],
)
async def test_a_nul_character_in_a_body_string_is_422(client, tenant, fields, path):
    response = await client.post(
        "/v1/content", json=content_body(tenant.project["id"], **fields), headers=tenant.headers
    )

    assert path in _paths(error_of(response, 422, "VALIDATION"))


async def test_a_nul_character_in_a_publish_target_is_422(client, tenant):
    content = await tenant.content()
    target = {
        "socialAccountId": tenant.tiktok["id"],
        "mode": "publish",
        "tiktokMusic": {"mode": "manual", "trackId": "track\u0000"},
    }

    response = await client.post(
        f"/v1/content/{content['id']}/publish", json={"targets": [target]}, headers=tenant.headers
    )

    assert _paths(error_of(response, 422, "VALIDATION")) == ["body.targets.0.tiktokMusic.trackId"]


@pytest.mark.parametrize(
    "config",
    [
        '{"note": "\\u0000"}',  # NUL: JSONB refuses it
        '{"\\u0000": 1}',  # ... in a key too
        '{"note": ["\\ud800"]}',  # an unpaired surrogate is not UTF-8
        '{"weight": 1e400}',  # infinity
        '{"weight": NaN}',  # Python's json accepts NaN; JSONB does not
    ],
)
async def test_layer_config_that_jsonb_cannot_hold_is_422(client, tenant, config):
    body = f'{{"templateId": "{MANAGED_TEMPLATE_ID}", "config": {config}}}'

    response = await client.post(
        f"/admin/v1/projects/{tenant.project['id']}/layers",
        content=body,
        headers={**ADMIN_HEADERS, "Content-Type": "application/json"},
    )

    assert _paths(error_of(response, 422, "VALIDATION")) == ["body.config"]


@pytest.mark.parametrize("query", ["q=a%00b", "containerId=cnt_%00", "socialAccountId=%00"])
async def test_a_nul_character_in_a_listing_filter_is_422(client, tenant, query):
    response = await client.get(
        f"/v1/projects/{tenant.project['id']}/scheduled-posts?{query}", headers=tenant.headers
    )

    error_of(response, 422, "VALIDATION")


@pytest.mark.parametrize("query", ["from=0001-01-01T00:00:00%2B05:00", "to=9999-12-31T23:00:00-05:00"])
async def test_a_listing_bound_outside_the_utc_range_is_422(client, tenant, query):
    response = await client.get(
        f"/v1/projects/{tenant.project['id']}/scheduled-posts?{query}", headers=tenant.headers
    )

    error_of(response, 422, "VALIDATION")


async def test_a_scheduled_for_past_the_utc_range_is_422(client, tenant):
    content = await tenant.content()
    body = {
        "targets": [{"socialAccountId": tenant.tiktok["id"], "mode": "publish"}],
        "scheduledFor": "9999-12-31T23:00:00-05:00",
    }

    response = await client.post(f"/v1/content/{content['id']}/schedule", json=body, headers=tenant.headers)

    assert _paths(error_of(response, 422, "VALIDATION")) == ["body.scheduledFor"]


async def test_a_token_expiry_past_the_utc_range_is_422(client, tenant):
    body = {
        "platform": "tiktok",
        "handle": "late",
        "externalAccountId": "tt-late",
        "accessToken": "act.late",
        "tokenExpiresAt": "9999-12-31T23:00:00-05:00",
    }

    response = await client.post(
        f"/admin/v1/projects/{tenant.project['id']}/social-accounts", json=body, headers=ADMIN_HEADERS
    )

    assert _paths(error_of(response, 422, "VALIDATION")) == ["body.tokenExpiresAt"]


async def test_a_first_n_posts_blocked_past_postgres_integer_is_422(client, tenant):
    response = await client.post(
        f"/admin/v1/organizations/{tenant.organization['id']}/projects",
        json={"name": "Big", "firstNPostsBlocked": 2**31},
        headers=ADMIN_HEADERS,
    )

    assert _paths(error_of(response, 422, "VALIDATION")) == ["body.firstNPostsBlocked"]


def _nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def _nested_text(levels: int) -> str:
    """The same document as text: Python's own encoder gives up long before a hostile client does."""
    return '{"a":' * levels + "{}" + "}" * levels


@pytest.mark.parametrize("levels", [33, 900])
async def test_stored_json_nested_deeper_than_32_levels_is_422(client, tenant, levels):
    body = '{"templateId": "custom", "config": ' + _nested_text(levels) + "}"
    response = await client.post(
        f"/admin/v1/projects/{tenant.project['id']}/layers",
        content=body,
        headers={**ADMIN_HEADERS, "Content-Type": "application/json"},
    )

    error = error_of(response, 422, "VALIDATION")
    assert _paths(error) == ["body.config"]
    assert "32 levels" in error["details"]["errors"][0]["message"]


async def test_a_body_too_deep_to_even_parse_is_422_not_400(client, tenant):
    body = '{"templateId": "custom", "config": ' + _nested_text(100_000) + "}"
    response = await client.post(
        f"/admin/v1/projects/{tenant.project['id']}/layers",
        content=body,
        headers={**ADMIN_HEADERS, "Content-Type": "application/json"},
    )

    error = error_of(response, 422, "VALIDATION")
    assert _paths(error) == ["body"]
    assert "too deeply" in error["details"]["errors"][0]["message"]


async def test_stored_json_32_levels_deep_is_accepted(client, tenant):
    response = await client.post(
        f"/admin/v1/projects/{tenant.project['id']}/layers",
        headers=ADMIN_HEADERS,
        json={"templateId": "custom", "config": _nested(31)},
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/organizations",
            {"name": "Acme", "primaryOperatorPhone": "+15555550100", "primaryOperatorPhoneVerified": 0},
            "body.primaryOperatorPhoneVerified",
        ),
        (
            "/organizations",
            {"name": "Acme", "primaryOperatorPhoneVerified": "true"},
            "body.primaryOperatorPhoneVerified",
        ),
        (
            "/organizations/{org}/projects",
            {"name": "Main", "firstNPostsBlocked": False},
            "body.firstNPostsBlocked",
        ),
        (
            "/organizations/{org}/projects",
            {"name": "Main", "firstNPostsBlocked": "3"},
            "body.firstNPostsBlocked",
        ),
        ("/organizations/{org}/projects", {"name": "Main", "requiresApproval": 1}, "body.requiresApproval"),
    ],
)
async def test_operator_booleans_and_integers_are_strict(client, tenant, path, body, field):
    response = await client.post(
        "/admin/v1" + path.format(org=tenant.organization["id"]), json=body, headers=ADMIN_HEADERS
    )

    assert _paths(error_of(response, 422, "VALIDATION")) == [field]


async def test_publish_booleans_are_strict(client, tenant):
    content = await tenant.content()
    target = {
        "socialAccountId": tenant.tiktok["id"],
        "mode": "publish",
        "tiktokPostSettings": {"disableComment": "yes"},
    }

    response = await client.post(
        f"/v1/content/{content['id']}/publish", json={"targets": [target]}, headers=tenant.headers
    )

    assert _paths(error_of(response, 422, "VALIDATION")) == [
        "body.targets.0.tiktokPostSettings.disableComment"
    ]
