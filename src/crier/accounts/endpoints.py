"""`/v1/social-accounts` and `/v1/tiktok-music`: what a partner may publish to, and with which sound."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy import select

from crier.accounts.readiness import readiness
from crier.accounts.schemas import MusicCatalogOut, SocialAccountList
from crier.api.openapi import error_responses
from crier.content.service import get_project
from crier.core.errors import ForbiddenScope, NotFound, Unauthorized
from crier.models import Layer, SocialAccount, TiktokMusicTrack
from crier.tenancy.auth import AccountsRead, PublishRead, SessionDep

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.get("/social-accounts", response_model=SocialAccountList,
            responses=error_responses(Unauthorized, ForbiddenScope, NotFound), summary="List social accounts")
async def list_social_accounts(principal: AccountsRead, session: SessionDep,
                               project_id: str | None = Query(default=None, alias="projectId")):
    statement = (
        select(SocialAccount, Layer)
        .outerjoin(Layer, Layer.id == SocialAccount.layer_id)
        .where(SocialAccount.organization_id == principal.organization_id)
        .order_by(SocialAccount.created_at, SocialAccount.id)
    )
    if project_id is not None:
        await get_project(session, organization_id=principal.organization_id, project_id=project_id)
        statement = statement.where(SocialAccount.project_id == project_id)
    rows = (await session.execute(statement)).all()
    return {
        "items": [
            {
                "id": account.id, "platform": account.platform, "handle": account.handle,
                "projectId": account.project_id, "status": account.status,
                "instagramAccountType": account.instagram_account_type, "layerId": account.layer_id,
                "grantedScopes": account.granted_scopes, "readiness": readiness(account, layer),
            }
            for account, layer in rows
        ]
    }


@router.get("/tiktok-music", response_model=MusicCatalogOut,
            responses=error_responses(Unauthorized, ForbiddenScope), summary="List the TikTok music catalog")
async def list_tiktok_music(principal: PublishRead, session: SessionDep):
    tracks = await session.scalars(select(TiktokMusicTrack).order_by(TiktokMusicTrack.artist, TiktokMusicTrack.title))
    return {"items": [{"id": t.id, "title": t.title, "artist": t.artist} for t in tracks]}
