"""The demo tenant `make dev` creates: accounts wired to the sandbox and a ready container."""

from __future__ import annotations

from crier.accounts.readiness import MANAGED_TEMPLATE_ID
from crier.admin import schemas, service
from crier.content.schemas import ContentIn
from crier.content.service import create_container
from crier.core.db import get_engine, unit_of_work
from crier.tenancy.auth import SCOPES
from crier.tenancy.ownership import OrganizationId
from crier.webhooks.events import EVENT_TYPES
from crier.webhooks.schemas import EndpointIn
from crier.webhooks.service import create_endpoint

DEMO_TRACKS = [
    {
        "id": "8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999",
        "title": "Sunrise Loop",
        "artist": "Demo Artist",
        "link": "https://www.tiktok.com/music/sunrise-loop-7300000000000000001",
    },
]


async def create_demo_tenant(*, managed_base_url: str, webhook_url: str | None = None) -> dict[str, str]:
    try:
        async with unit_of_work() as session:
            org = await service.create_organization(
                session,
                body=schemas.OrganizationIn(
                    name="Demo", primary_operator_phone="+15555550100", primary_operator_phone_verified=True
                ),
            )
            project = await service.create_project(
                session, organization_id=org.id, body=schemas.ProjectIn(name="Demo")
            )
            _, key = await service.create_api_key(
                session,
                organization_id=OrganizationId(org.id),
                body=schemas.ApiKeyIn(name="demo", scopes=list(SCOPES), allowed_return_hosts=["127.0.0.1"]),
            )
            tiktok = await service.create_social_account(
                session,
                project_id=project.id,
                body=schemas.SocialAccountIn(
                    platform="tiktok",
                    handle="creator",
                    external_account_id="demo-open-id",
                    access_token="act.demo",
                    refresh_token="rft.demo",
                    granted_scopes=["video.publish", "video.upload", "video.list"],
                ),
            )
            instagram = await service.create_social_account(
                session,
                project_id=project.id,
                body=schemas.SocialAccountIn(
                    platform="instagram",
                    handle="demo.brand",
                    external_account_id="17841400000000042",
                    access_token="IGQ.demo",
                    instagram_account_type="business",
                ),
            )
            layer = await service.create_layer(
                session,
                project_id=project.id,
                body=schemas.LayerIn(
                    template_id=MANAGED_TEMPLATE_ID,
                    config={
                        "provider": "sandbox",
                        "baseUrl": managed_base_url,
                        "signingSecret": "sandbox-secret",
                    },
                ),
            )
            managed = await service.create_social_account(
                session,
                project_id=project.id,
                body=schemas.SocialAccountIn(
                    platform="tiktok",
                    handle="demo.managed",
                    external_account_id="demo-managed-open-id",
                    access_token="act.managed",
                    granted_scopes=["video.publish"],
                    layer_id=layer.id,
                ),
            )
            await service.replace_music_catalog(
                session, body=schemas.MusicCatalogIn.model_validate({"items": DEMO_TRACKS})
            )
            container = await create_container(
                session,
                organization_id=OrganizationId(org.id),
                body=ContentIn.model_validate(
                    {
                        "projectId": project.id,
                        "mediaType": "video",
                        "media": [{"url": "https://cdn.example.com/demo/launch.mp4"}],
                        "caption": "Hello from Crier #demo",
                        "firstComment": "First!",
                    }
                ),
            )
            hook: dict[str, str] = {}
            if webhook_url is not None:  # every event of the demo organization goes to the sandbox's receiver
                endpoint, secret = await create_endpoint(
                    session,
                    organization_id=OrganizationId(org.id),
                    body=EndpointIn(
                        url=webhook_url,
                        events=list(EVENT_TYPES),
                        description="make dev: the sandbox's receiver",
                    ),
                )
                hook = {"webhook_endpoint_id": endpoint.id, "webhook_secret": secret}
    finally:
        await get_engine().dispose()
    return {
        "organization_id": org.id,
        "project_id": project.id,
        "key": key,
        "container_id": container.id,
        "tiktok_account_id": tiktok.id,
        "tiktok_handle": tiktok.handle,
        "instagram_account_id": instagram.id,
        "managed_account_id": managed.id,
        **hook,
    }
