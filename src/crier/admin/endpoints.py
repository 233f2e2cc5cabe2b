"""Operator API (`/admin/v1`, CONTRACT §10): thin routes over crier.admin.service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from crier.admin import repository, schemas, service
from crier.api.openapi import error_responses
from crier.core.db import SessionDep
from crier.core.errors import Conflict, NotFound, Unauthorized, Validation
from crier.core.schemas import StorableStr, UtcDateTime, WirePlatform, WirePostStatus
from crier.models import ApiKey, Layer, Organization, Project, SocialAccount
from crier.tenancy.auth import require_admin

router = APIRouter(
    prefix="/admin/v1",
    tags=["operator"],
    dependencies=[Depends(require_admin)],
    responses=error_responses(Unauthorized, NotFound, Validation),
)


def _layer_out(layer: Layer) -> schemas.LayerOut:
    return schemas.LayerOut(
        id=layer.id,
        project_id=layer.project_id,
        template_id=layer.template_id,
        config=layer.config,
        has_signing_secret=layer.signing_secret_encrypted is not None,
        created_at=layer.created_at,
    )


@router.post("/organizations", status_code=201, response_model=schemas.OrganizationOut)
async def create_organization(body: schemas.OrganizationIn, session: SessionDep) -> Organization:
    return await service.create_organization(session, body=body)


@router.get("/organizations", response_model=list[schemas.OrganizationOut])
async def list_organizations(session: SessionDep) -> list[Organization]:
    return await service.list_organizations(session)


@router.post(
    "/organizations/{organization_id}/api-keys", status_code=201, response_model=schemas.ApiKeyCreated
)
async def create_api_key(
    organization_id: str, body: schemas.ApiKeyIn, session: SessionDep
) -> schemas.ApiKeyCreated:
    api_key, key = await service.create_api_key(session, organization_id=organization_id, body=body)
    return schemas.ApiKeyCreated.model_validate(
        {**schemas.ApiKeyOut.model_validate(api_key, from_attributes=True).model_dump(), "key": key}
    )


OrganizationFilter = Annotated[StorableStr | None, Query(alias="organizationId", max_length=100)]


@router.get("/api-keys", response_model=list[schemas.ApiKeyOut], summary="List API keys (never their hashes)")
async def list_api_keys(session: SessionDep, organization_id: OrganizationFilter = None) -> list[ApiKey]:
    return await service.list_api_keys(session, organization_id=organization_id)


@router.delete(
    "/api-keys/{key_id}",
    response_model=schemas.ApiKeyOut,
    responses=error_responses(Conflict, examples={"CONFLICT": {"keyIds": ["key_..."]}}),
    summary="Revoke an API key by id or by its listed prefix (lp_live_abcd)",
)
async def revoke_api_key(key_id: str, session: SessionDep) -> ApiKey:
    return await service.revoke_api_key(session, key_id=key_id)


@router.get("/projects", response_model=list[schemas.ProjectOut], summary="List projects")
async def list_projects(session: SessionDep, organization_id: OrganizationFilter = None) -> list[Project]:
    return await service.list_projects(session, organization_id=organization_id)


@router.get(
    "/social-accounts",
    response_model=list[schemas.SocialAccountListed],
    summary="List social accounts (never their tokens)",
)
async def list_all_social_accounts(
    session: SessionDep,
    organization_id: OrganizationFilter = None,
    project_id: Annotated[StorableStr | None, Query(alias="projectId", max_length=100)] = None,
) -> list[SocialAccount]:
    return await service.list_social_accounts(session, organization_id=organization_id, project_id=project_id)


@router.get(
    "/scheduled-posts",
    response_model=schemas.OperatorPostPage,
    summary="List posts across organizations, newest first (status, platform, error code, time range)",
)
async def list_all_scheduled_posts(
    session: SessionDep,
    organization_id: OrganizationFilter = None,
    status: WirePostStatus | None = None,
    platform: WirePlatform | None = None,
    error_code: Annotated[
        StorableStr | None,
        Query(alias="errorCode", max_length=100, description="lastError.code, e.g. OUTCOME_UNKNOWN"),
    ] = None,
    scheduled_from: Annotated[
        UtcDateTime | None, Query(alias="from", description="scheduledFor ≥ this")
    ] = None,
    scheduled_to: Annotated[UtcDateTime | None, Query(alias="to", description="scheduledFor < this")] = None,
    cursor: Annotated[StorableStr | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> schemas.OperatorPostPage:
    filters = repository.PostFilters(
        organization_id=organization_id,
        status=status,
        platform=platform,
        error_code=error_code,
        scheduled_from=scheduled_from,
        scheduled_to=scheduled_to,
    )
    items, next_cursor = await service.list_posts(session, filters=filters, cursor=cursor, limit=limit)
    return schemas.OperatorPostPage(
        items=[schemas.OperatorPostOut.model_validate(post) for post in items], next_cursor=next_cursor
    )


@router.post("/organizations/{organization_id}/projects", status_code=201, response_model=schemas.ProjectOut)
async def create_project(organization_id: str, body: schemas.ProjectIn, session: SessionDep) -> Project:
    return await service.create_project(session, organization_id=organization_id, body=body)


@router.post("/projects/{project_id}/layers", status_code=201, response_model=schemas.LayerOut)
async def create_layer(project_id: str, body: schemas.LayerIn, session: SessionDep) -> schemas.LayerOut:
    return _layer_out(await service.create_layer(session, project_id=project_id, body=body))


@router.post(
    "/projects/{project_id}/social-accounts", status_code=201, response_model=schemas.SocialAccountOut
)
async def create_social_account(
    project_id: str, body: schemas.SocialAccountIn, session: SessionDep
) -> SocialAccount:
    return await service.create_social_account(session, project_id=project_id, body=body)


@router.delete("/social-accounts/{account_id}", response_model=schemas.SocialAccountOut)
async def disconnect_social_account(account_id: str, session: SessionDep) -> SocialAccount:
    return await service.disconnect_social_account(session, account_id=account_id)


@router.put("/tiktok-music", response_model=schemas.MusicCatalogOut)
async def replace_music_catalog(body: schemas.MusicCatalogIn, session: SessionDep) -> dict[str, Any]:
    tracks = await service.replace_music_catalog(session, body=body)
    return {"items": [{"id": t.id, "title": t.title, "artist": t.artist, "link": t.link} for t in tracks]}
