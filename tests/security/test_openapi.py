"""The OpenAPI document tells the truth: success and error responses, security, Idempotency-Key, /docs.

`openapi-spec-validator` is not a dependency, so the document's structure is checked here directly,
and every example in it is validated against its own schema (jsonschema-rs comes with schemathesis).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@pytest.fixture
async def document(client) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def operations(document: dict[str, Any], prefix: str = "/") -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        if path.startswith(prefix)
        for method, operation in item.items()
        if method in METHODS
    ]


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        assert node["$ref"].startswith("#/"), node
        for part in node["$ref"][2:].split("/"):
            document = document[part]
        node = document
    return node


def success_of(operation: dict[str, Any]) -> dict[str, Any]:
    [status] = [status for status in operation["responses"] if status.startswith("2")]
    return operation["responses"][status]


def test_the_document_covers_the_partner_and_the_operator_api(document):
    # /v1: 13 + 6 OAuth account routes + retry, attempts, validate, quota + 9 webhook routes; /admin/v1: 9 + 4 listings
    assert len(operations(document, "/v1/")) == 32 and len(operations(document, "/admin/v1/")) == 13


async def test_docs_render_the_document(client):
    response = await client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text and "swagger" in response.text.lower()


def test_the_security_schemes_are_declared(document):
    schemes = document["components"]["securitySchemes"]

    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyHeader"] == {
        **schemes["apiKeyHeader"],
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
    }
    assert schemes["adminToken"]["scheme"] == "bearer"


def test_every_v1_operation_takes_either_key_and_declares_its_auth_errors(document):
    for method, path, operation in operations(document, "/v1/"):
        label = f"{method.upper()} {path}"
        assert operation["security"] == [{"bearerAuth": []}, {"apiKeyHeader": []}], label
        assert {"401", "403", "429"} <= set(operation["responses"]), label
        codes = example_codes(document, operation["responses"]["403"])
        assert "FORBIDDEN_SCOPE" in codes, label
        assert "Retry-After" in operation["responses"]["429"]["headers"], label


def test_every_operator_operation_takes_the_admin_token_and_declares_401_and_404(document):
    for method, path, operation in operations(document, "/admin/v1/"):
        label = f"{method.upper()} {path}"
        assert operation["security"] == [{"adminToken": []}], label
        # 404 too: the operator API answers NOT_FOUND while no token is configured.
        assert {"401", "404"} <= set(operation["responses"]), label


def test_every_operation_declares_a_success_with_a_schema(document):
    for method, path, operation in operations(document):
        label = f"{method.upper()} {path}"
        success = success_of(operation)
        assert success["description"], label
        assert success["content"]["application/json"]["schema"], label


def test_every_error_response_is_the_envelope(document):
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}, f"{method} {path} {status}"
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_cross_cutting_answers_are_declared_where_they_can_happen(document):
    for method, path, operation in operations(document):
        label, responses = f"{method.upper()} {path}", operation["responses"]
        if method in ("post", "put", "patch"):
            assert "413" in responses, label  # the body limit reads every body
        if path != "/healthz":
            assert "503" in responses and "Retry-After" in responses["503"]["headers"], label
        for status, response in responses.items():
            assert response["headers"]["X-Request-Id"]["required"] is True, f"{label} {status}"


def test_every_v1_post_documents_idempotency_key_and_its_errors(document):
    # OAuth URLs are not cached (ACCOUNTS.md: their state expires): a retry simply gets a fresh one.
    posts = [
        (path, operation)
        for method, path, operation in operations(document, "/v1/")
        if method == "post" and not path.endswith(("/social/oauth-url", "/social/reauth-url"))
    ]
    assert len(posts) == 11
    for path, operation in posts:
        [header] = [
            parameter
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "header" and parameter["name"] == "Idempotency-Key"
        ]
        assert header["required"] is False and "24 hours" in header["description"], path
        assert "Idempotent-Replayed" in success_of(operation)["headers"], path
        assert {"IDEMPOTENCY_IN_FLIGHT"} <= example_codes(document, operation["responses"]["409"]), path
        assert "Retry-After" in operation["responses"]["409"]["headers"], path
        assert {"IDEMPOTENCY_KEY_REUSED"} <= example_codes(document, operation["responses"]["422"]), path


def test_publish_and_schedule_document_every_code_of_the_order_of_checks(document):
    expected = {
        "UNAUTHORIZED",
        "FORBIDDEN_SCOPE",
        "APPROVAL_REQUIRED",
        "VALIDATION",
        "NOT_FOUND",
        "CONFLICT",
        "CONTENT_REJECTED",
        "SOCIAL_ACCOUNT_NOT_PUBLISH_READY",
        "CONFLICT_DUPLICATE_ID",
        "IDEMPOTENCY_IN_FLIGHT",
        "IDEMPOTENCY_KEY_REUSED",
        "RATE_LIMITED",
        "PAYLOAD_TOO_LARGE",
        "UNAVAILABLE",
    }
    for action in ("publish", "schedule"):
        operation = document["paths"][f"/v1/content/{{container_id}}/{action}"]["post"]
        codes = set().union(
            *(
                example_codes(document, response)
                for status, response in operation["responses"].items()
                if status[0] in "45"
            )
        )
        assert expected <= codes, action


def test_the_seed_pages_success_examples_are_in_the_document(document):
    def examples(path: str) -> dict[str, Any]:
        return document["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["examples"]

    assert list(examples("/v1/content/{container_id}/publish")["queued_for_immediate_publish"]["value"]) == [
        "scheduledPostIds"
    ]
    assert {"queued", "blocked_on_approval"} <= set(examples("/v1/content/{container_id}/schedule"))
    approve = examples("/v1/content/{container_id}/approve")
    assert approve["approved_and_promoted"]["value"]["pendingSchedulePromotion"]["status"] == "ok"


def test_every_example_matches_its_schema(document):
    import jsonschema_rs

    checked = 0
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            media = response.get("content", {}).get("application/json", {})
            for name, example in media.get("examples", {}).items():
                schema = {**media["schema"], "components": document["components"]}
                validator = jsonschema_rs.validator_for(schema)
                errors = [error.message for error in validator.iter_errors(example["value"])]
                assert not errors, f"{method.upper()} {path} {status} example {name}: {errors}"
                checked += 1
    assert checked > 50


def test_the_document_is_structurally_valid_openapi_31(document):
    assert re.fullmatch(r"3\.1\.\d+", document["openapi"])
    assert document["info"]["title"] == "Crier" and document["info"]["version"]
    operation_ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(operation_ids) == len(set(operation_ids))
    for method, path, operation in operations(document):
        label = f"{method.upper()} {path}"
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{([^}]+)}", path)), label
        for parameter in operation.get("parameters", []):
            assert parameter["in"] in ("path", "query", "header", "cookie") and "schema" in parameter, label
            assert parameter["in"] != "path" or parameter["required"] is True, label
        assert operation["responses"], label
        for status, response in operation["responses"].items():
            assert re.fullmatch(r"[1-5]\d\d|default", status) and response["description"], f"{label} {status}"
        for scheme in operation.get("security", []):
            assert set(scheme) <= set(document["components"]["securitySchemes"]), label
    assert_refs_resolve(document, document)


def assert_refs_resolve(document: dict[str, Any], node: Any) -> None:
    if isinstance(node, dict):
        if "$ref" in node:
            resolve(document, node)
        for value in node.values():
            assert_refs_resolve(document, value)
    elif isinstance(node, list):
        for value in node:
            assert_refs_resolve(document, value)


def example_codes(document: dict[str, Any], response: dict[str, Any]) -> set[str]:
    examples = resolve(document, response)["content"]["application/json"].get("examples", {})
    return {example["value"]["error"]["code"] for example in examples.values()}
