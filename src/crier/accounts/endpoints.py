"""`/v1/social-accounts`, a project's accounts (list, health, revoke) and `/v1/tiktok-music`:
what a partner may publish to, and with which sound."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query

from crier.accounts import service
from crier.accounts.readiness import readiness
from crier.accounts.schemas import (
    AccountHealth,
    MusicCatalogOut,
    ProjectSocialAccount,
    ProjectSocialAccountPage,
    SocialAccountList,
)
from crier.api.openapi import error_responses
from crier.core.db import SessionDep
from crier.core.errors import ForbiddenScope, NotFound, Unauthorized, Validation
from crier.core.schemas import StorableStr
from crier.core.settings import get_settings
from crier.platforms.http import create_http_client
from crier.platforms.oauth import tiktok as tiktok_oauth
from crier.tenancy.auth import AccountsRead, PublishRead, SocialRead, SocialWrite

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.get(
    "/social-accounts",
    response_model=SocialAccountList,
    responses=error_responses(Unauthorized, ForbiddenScope, NotFound),
    summary="List social accounts",
)
async def list_social_accounts(
    principal: AccountsRead,
    session: SessionDep,
    project_id: str | None = Query(default=None, alias="projectId"),
) -> dict[str, Any]:
    rows = await service.list_accounts(
        session, organization_id=principal.organization_id, project_id=project_id
    )
    return {
        "items": [
            {
                "id": account.id,
                "platform": account.platform,
                "handle": account.handle,
                "projectId": account.project_id,
                "status": account.status,
                "instagramAccountType": account.instagram_account_type,
                "layerId": account.layer_id,
                "grantedScopes": account.granted_scopes,
                "readiness": readiness(account, layer),
            }
            for account, layer in rows
        ]
    }


@router.get(
    "/projects/{project_id}/social-accounts",
    response_model=ProjectSocialAccountPage,
    responses=error_responses(
        Unauthorized,
        ForbiddenScope,
        NotFound,
        Validation,
        examples={"FORBIDDEN_SCOPE": {"requiredScope": "social:read"}},
    ),
    summary="List a project's social accounts (status, scopes, readiness; keyset cursor)",
)
async def list_project_social_accounts(
    project_id: str,
    principal: SocialRead,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[
        StorableStr | None, Query(max_length=500, description="nextCursor of the previous page")
    ] = None,
) -> dict[str, Any]:
    rows, next_cursor = await service.list_project_accounts(
        session, organization_id=principal.organization_id, project_id=project_id, cursor=cursor, limit=limit
    )
    return {
        "items": [service.account_out(account, layer) for account, layer in rows],
        "nextCursor": next_cursor,
    }


@router.get(
    "/projects/{project_id}/social-accounts/{account_id}/health",
    response_model=AccountHealth,
    responses=error_responses(Unauthorized, ForbiddenScope, NotFound),
    summary="Token lifetimes, the last refresh and the scopes each mode still lacks",
)
async def get_social_account_health(
    project_id: str, account_id: str, principal: SocialRead, session: SessionDep
) -> dict[str, Any]:
    account, _ = await service.get_account(
        session, organization_id=principal.organization_id, project_id=project_id, account_id=account_id
    )
    return service.health_out(account)


@router.delete(
    "/projects/{project_id}/social-accounts/{account_id}",
    response_model=ProjectSocialAccount,
    responses=error_responses(Unauthorized, ForbiddenScope, NotFound),
    summary="Revoke an account: cancels its scheduled and stashed posts, revokes the token upstream",
)
async def revoke_social_account(
    project_id: str, account_id: str, principal: SocialWrite, session: SessionDep, background: BackgroundTasks
) -> dict[str, Any]:
    revocation = await service.revoke_account(
        session,
        organization_id=principal.organization_id,
        project_id=project_id,
        account_id=account_id,
        settings=get_settings(),
    )
    if revocation.access_token is not None:
        # After the commit (the session dependency ends before background tasks run): the revoke
        # stands even when the platform is down, and no transaction waits on the platform.
        background.add_task(_revoke_upstream, revocation.access_token, revocation.account.id)
    return service.account_out(revocation.account, revocation.layer)


async def _revoke_upstream(access_token: str, account_id: str) -> None:
    settings = get_settings()
    async with create_http_client(settings) as http:
        revoked = await tiktok_oauth.revoke(http, settings, access_token=access_token)
    log.info("social_account.revoked_upstream", extra={"socialAccountId": account_id, "confirmed": revoked})


@router.get(
    "/tiktok-music",
    response_model=MusicCatalogOut,
    responses=error_responses(Unauthorized, ForbiddenScope),
    summary="List the TikTok music catalog",
)
async def list_tiktok_music(principal: PublishRead, session: SessionDep) -> dict[str, Any]:
    tracks = await service.music_catalog(session)
    return {"items": [{"id": t.id, "title": t.title, "artist": t.artist} for t in tracks]}
