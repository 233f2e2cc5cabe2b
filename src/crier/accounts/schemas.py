"""Account and catalog answers. Tokens never appear here."""

from __future__ import annotations

from pydantic import BaseModel


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
