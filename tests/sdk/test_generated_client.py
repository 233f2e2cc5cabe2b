"""A client generated from the running Crier's /openapi.json by a real generator (openapi-python-client)
publishes and reads a post: the document is one a generator can use as it is."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from pathlib import Path

import httpx
import pytest

PACKAGE = "crier_generated_client"


@pytest.fixture(scope="module")
async def generated(crier_url, tmp_path_factory):
    """The generated package, imported; generation must finish without a single warning."""
    folder = tmp_path_factory.mktemp("generated")
    async with httpx.AsyncClient(base_url=crier_url) as http:
        document = (await http.get("/openapi.json")).text
    (folder / "openapi.json").write_text(document)
    tools = Path(sys.executable).parent  # the generator and the ruff it formats with live beside python
    generator = await asyncio.create_subprocess_exec(
        str(tools / "openapi-python-client"),
        "generate",
        "--path",
        "openapi.json",
        "--meta",
        "none",
        "--output-path",
        PACKAGE,
        "--fail-on-warning",
        cwd=folder,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    output, _ = await asyncio.wait_for(generator.communicate(), timeout=300)
    assert generator.returncode == 0, output.decode(errors="replace")
    sys.path.insert(0, str(folder))
    try:
        yield lambda module: importlib.import_module(f"{PACKAGE}.{module}")
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.startswith(PACKAGE)]:
            del sys.modules[name]


def test_operations_are_generated_under_the_sdks_names(generated):
    for module in (
        "api.content.create_content",
        "api.publishing.publish_content",
        "api.publishing.schedule_content",
        "api.scheduled_posts.get_scheduled_post",
        "api.scheduled_posts.list_scheduled_posts",
        "api.scheduled_posts.cancel_scheduled_post",
        "api.approval.approve_content",
        "api.health.healthz",
        "models.accounts_music_catalog_out",
        "models.admin_music_catalog_out",
    ):
        generated(module)


async def test_publish_and_read_through_the_generated_client(generated, crier_url, tenant):
    models = generated("models")
    client = generated("client").AuthenticatedClient(base_url=crier_url, token=tenant.key["key"])
    create_content = generated("api.content.create_content")
    publish_content = generated("api.publishing.publish_content")
    get_scheduled_post = generated("api.scheduled_posts.get_scheduled_post")
    list_scheduled_posts = generated("api.scheduled_posts.list_scheduled_posts")

    async with client:
        container = await create_content.asyncio(
            client=client,
            body=models.ContentIn.from_dict(
                {
                    "projectId": tenant.project["id"],
                    "mediaType": "video",
                    "media": [{"url": "https://cdn.example.com/launch.mp4"}],
                    "caption": "Generated",
                }
            ),
        )
        published = await publish_content.asyncio(
            container.id,
            client=client,
            idempotency_key="generated-1",
            body=models.PublishIn.from_dict(
                {"targets": [{"socialAccountId": tenant.tiktok["id"], "mode": "publish"}]}
            ),
        )
        post = await get_scheduled_post.asyncio(published.scheduled_post_ids[0], client=client)
        page = await list_scheduled_posts.asyncio(tenant.project["id"], client=client)
        missing = await get_scheduled_post.asyncio_detailed(
            "sp_00000000-0000-4000-8000-000000000000", client=client
        )

    assert isinstance(container, models.ContentOut) and container.caption == "Generated"
    assert isinstance(post, models.ScheduledPostOut) and post.container_id == container.id
    assert [item.id for item in page.items] == published.scheduled_post_ids
    assert missing.status_code == 404 and isinstance(missing.parsed, models.ErrorEnvelope)
    assert missing.parsed.error.code == "NOT_FOUND"


async def test_typed_health_answers_through_the_generated_client(generated, crier_url):
    client = generated("client").Client(base_url=crier_url)
    async with client:
        live = await generated("api.health.healthz").asyncio(client=client)
        ready = await generated("api.health.readyz").asyncio(client=client)

    assert type(live).__name__ == "Liveness" and live.status == "ok"
    assert type(ready).__name__ == "ReadinessProbe" and ready.status == "ready"
