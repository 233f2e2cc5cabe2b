"""Account and catalog answers. Tokens never appear here."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from crier.core.schemas import ResponseModel, WireModel, WirePlatform, WireTime


class Readiness(BaseModel):
    publish: bool
    draft: bool
    managed: bool


class SocialAccountItem(BaseModel):
    id: str
    platform: str
    handle: str
    projectId: str
    status: str
    instagramAccountType: str | None
    layerId: str | None
    grantedScopes: list[str]
    readiness: Readiness


class SocialAccountList(BaseModel):
    items: list[SocialAccountItem]


class MusicTrack(BaseModel):
    id: str
    title: str
    artist: str


class MusicCatalogOut(BaseModel):
    items: list[MusicTrack]


class OAuthUrlIn(WireModel):
    platform: WirePlatform
    return_url: str = Field(min_length=1, max_length=2000)
    usage_note: str | None = Field(default=None, max_length=500)
    scopes: list[Annotated[str, Field(max_length=100)]] | None = Field(default=None, max_length=20)


class ReauthUrlIn(WireModel):
    social_account_id: str = Field(min_length=1, max_length=100)
    return_url: str = Field(min_length=1, max_length=2000)
    scopes: list[Annotated[str, Field(max_length=100)]] | None = Field(default=None, max_length=20)


class OAuthUrlOut(ResponseModel):
    authorize_url: str
    state: str = Field(description="st_<opaque>: poll GET /v1/social/oauth-status/{state}; single use.")
    expires_at: WireTime


class OAuthError(BaseModel):
    code: str
    message: str | None


class OAuthStatusOut(BaseModel):
    status: Literal["pending", "completed", "failed"]
    socialAccountId: str | None = None
    platform: str
    error: OAuthError | None = None


class ProjectSocialAccount(BaseModel):
    id: str
    platform: str
    handle: str
    displayName: str | None
    avatarUrl: str | None
    status: Literal["connected", "reauth_required", "revoked"]
    grantedScopes: list[str]
    readiness: Readiness
    tokenExpiresAt: WireTime | None
    connectedAt: WireTime


class ProjectSocialAccountPage(BaseModel):
    items: list[ProjectSocialAccount]
    nextCursor: str | None


class MissingScopes(BaseModel):
    publish: list[str]
    draft: list[str]


class AccountHealth(BaseModel):
    status: Literal["connected", "reauth_required", "revoked"]
    tokenExpiresAt: WireTime | None
    refreshTokenExpiresAt: WireTime | None
    lastRefreshAt: WireTime | None
    lastRefreshError: str | None
    grantedScopes: list[str]
    missingScopes: MissingScopes
