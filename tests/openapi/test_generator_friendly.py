"""What a client generator needs from /openapi.json: ids named like the SDK, one title per schema, an
example for every request and answer (each valid against its schema), typed health answers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from crier.api.examples import PARAMETER_EXAMPLES, SCHEMA_EXAMPLES
from tests.security.test_openapi import operations, resolve


@pytest.fixture
async def document(client) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_operation_ids_are_the_endpoint_functions_in_camel_case(document):
    ids = {
        f"{method.upper()} {path}": operation["operationId"]
        for method, path, operation in operations(document)
    }

    assert ids["POST /v1/content/{container_id}/publish"] == "publishContent"
    assert ids["POST /v1/content/{container_id}/schedule"] == "scheduleContent"
    assert ids["GET /v1/projects/{project_id}/scheduled-posts"] == "listScheduledPosts"
    assert ids["DELETE /v1/scheduled-posts/{post_id}"] == "cancelScheduledPost"
    assert ids["GET /healthz"] == "healthz"
    assert all(re.fullmatch(r"[a-z][a-zA-Z0-9]*", operation_id) for operation_id in ids.values()), ids
    assert len(set(ids.values())) == len(ids)


def test_routes_added_later_get_camel_case_ids_too():
    from fastapi import APIRouter, FastAPI

    from crier.api.openapi import operation_id

    app = FastAPI(generate_unique_id_function=operation_id)
    router = APIRouter(prefix="/v1/webhook-endpoints")

    @router.post("/{endpoint_id}/rotate-secret")
    async def rotate_webhook_secret(endpoint_id: str) -> dict[str, str]:
        return {}

    app.include_router(router)

    [operation] = app.openapi()["paths"]["/v1/webhook-endpoints/{endpoint_id}/rotate-secret"].values()
    assert operation["operationId"] == "rotateWebhookSecret"


def test_every_schema_has_its_own_title(document):
    schemas = document["components"]["schemas"]
    titles = [schema.get("title") for schema in schemas.values()]

    assert len(titles) == len(set(titles)), sorted(title for title in titles if titles.count(title) > 1)
    assert not [name for name in schemas if "__" in name]
    assert {"AccountsMusicCatalogOut", "AdminMusicCatalogOut"} <= set(schemas)


def test_the_two_music_catalogs_keep_their_own_shapes(document):
    paths = document["paths"]
    partner = paths["/v1/tiktok-music"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    operator = paths["/admin/v1/tiktok-music"]["put"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]

    assert partner == {"$ref": "#/components/schemas/AccountsMusicCatalogOut"}
    assert operator == {"$ref": "#/components/schemas/AdminMusicCatalogOut"}


def has_example(document: dict[str, Any], media: dict[str, Any]) -> bool:
    if media.get("examples") or "example" in media:
        return True
    schema = resolve(document, media.get("schema", {}))
    if schema.get("type") == "array":
        schema = resolve(document, schema.get("items", {}))
    return bool(schema.get("examples"))


def test_every_request_body_and_every_success_answer_has_an_example(document):
    missing = []
    for method, path, operation in operations(document):
        label = f"{method.upper()} {path}"
        body = operation.get("requestBody")
        if body is not None and not has_example(document, body["content"]["application/json"]):
            missing.append(f"{label} request")
        [success] = [
            response for status, response in operation["responses"].items() if status.startswith("2")
        ]
        if not has_example(document, success["content"]["application/json"]):
            missing.append(f"{label} answer")
        missing += [
            f"{label} {parameter['name']}"
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "path" and "example" not in parameter
        ]
    assert not missing


def test_every_schema_has_an_example_and_every_example_is_valid(document):
    import jsonschema_rs

    components = document["components"]
    invalid = {}
    for name, schema in components["schemas"].items():
        assert schema.get("examples"), f"{name} has no example"
        validator = jsonschema_rs.validator_for({**schema, "components": components})
        for example in schema["examples"]:
            errors = [error.message for error in validator.iter_errors(example)]
            if errors:
                invalid[name] = errors
    assert not invalid


ID_PREFIXES = {
    "container_id": "cnt_",
    "project_id": "prj_",
    "post_id": "sp_",
    "account_id": "sa_",
    "social_account_id": "sa_",
    "organization_id": "org_",
    "key_id": "key_",
    "layer_id": "lyr_",
    "endpoint_id": "whe_",
    "delivery_id": "whd_",
    "state": "st_",
}


def test_path_parameter_examples_carry_their_ids_prefix(document):
    for method, path, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"] in ID_PREFIXES:
                assert parameter["example"].startswith(ID_PREFIXES[parameter["name"]]), f"{method} {path}"


def test_every_id_example_carries_its_prefix():
    for name, prefix in ID_PREFIXES.items():
        assert PARAMETER_EXAMPLES[name].startswith(prefix), name


def test_the_example_catalog_names_only_schemas_that_exist(document):
    assert set(SCHEMA_EXAMPLES) <= set(document["components"]["schemas"])
    assert set(PARAMETER_EXAMPLES) >= {
        parameter["name"]
        for _, _, operation in operations(document)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    }


def test_health_answers_are_typed(document):
    def answer(path: str) -> dict[str, Any]:
        schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        return resolve(document, schema)

    assert answer("/healthz")["properties"]["status"] == {"type": "string", "const": "ok", "title": "Status"}
    assert answer("/readyz")["properties"]["status"]["const"] == "ready"


async def test_health_answers_match_their_schemas(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}
