"""Operator API bodies and answers (CONTRACT §10)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, StrictBool, StrictInt, field_validator

from crier.core.schemas import ResponseModel, WireModel, WirePlatform, WireTime
from crier.scheduled_posts.schemas import ScheduledPostOut
from crier.tenancy.auth import SCOPES

# A DNS name or an IPv4 address, optionally with a port; no scheme, path or wildcard.
RETURN_HOST = re.compile(
    r"(?i)(?=.{1,253}(:|$))[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
    r"(:[1-9][0-9]{0,4})?"
)


class OrganizationIn(WireModel):
    name: str = Field(min_length=1, max_length=200)
    primary_operator_phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$")
    primary_operator_phone_verified: StrictBool = False


class OrganizationOut(ResponseModel):
    id: str
    name: str
    primary_operator_phone: str | None
    primary_operator_phone_verified: bool
    created_at: WireTime


class ApiKeyIn(WireModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(min_length=1)
    # Where an OAuth connect may send the end customer back (ACCOUNTS.md): "app.example.com" or
    # "localhost:3000" (a port makes the entry match that port only).
    allowed_return_hosts: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("allowed_return_hosts")
    @classmethod
    def _plain_hosts(cls, hosts: list[str]) -> list[str]:
        cleaned = []
        for host in hosts:
            if not RETURN_HOST.fullmatch(host):
                raise ValueError(
                    f"{host!r} is not a host name (with an optional :port), e.g. app.example.com"
                )
            cleaned.append(host.lower())
        return sorted(set(cleaned))

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, scopes: list[str]) -> list[str]:
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown:
            raise ValueError(f"unknown scopes {unknown}; known: {list(SCOPES)}")
        return sorted(set(scopes))


class ApiKeyOut(ResponseModel):
    id: str
    organization_id: str
    name: str
    scopes: list[str]
    allowed_return_hosts: list[str]
    key_prefix: str
    created_at: WireTime
    revoked_at: WireTime | None = None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The API key. Shown only in this response.")


class ProjectIn(WireModel):
    name: str = Field(min_length=1, max_length=200)
    requires_approval: StrictBool = False
    # PostgreSQL `integer`: a larger threshold would be a database error, not a 422.
    first_n_posts_blocked: StrictInt | None = Field(default=None, ge=0, le=2_147_483_647)


class ProjectOut(ResponseModel):
    id: str
    organization_id: str
    name: str
    requires_approval: bool
    first_n_posts_blocked: int | None
    current_blocked_count: int
    created_at: WireTime


class LayerIn(WireModel):
    template_id: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)


class LayerOut(ResponseModel):
    id: str
    project_id: str
    template_id: str
    config: dict[str, Any]
    has_signing_secret: bool
    created_at: WireTime


class SocialAccountIn(WireModel):
    platform: WirePlatform
    handle: str = Field(min_length=1, max_length=200)
    external_account_id: str = Field(min_length=1, max_length=200)
    access_token: str = Field(min_length=1, max_length=4096)
    refresh_token: str | None = Field(default=None, min_length=1, max_length=4096)
    token_expires_at: datetime | None = None
    granted_scopes: list[str] = Field(default_factory=list)
    instagram_account_type: Literal["business", "creator", "personal"] | None = None
    layer_id: str | None = None

    @field_validator("token_expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a timezone (RFC 3339, e.g. 2026-01-01T00:00:00Z)")
        try:
            return value.astimezone(UTC) if value is not None else None
        except OverflowError:  # 9999-12-31T23:00:00-05:00 is past datetime.max in UTC
            raise ValueError("is out of range once converted to UTC") from None


class SocialAccountOut(ResponseModel):
    id: str
    project_id: str
    platform: str
    handle: str
    external_account_id: str
    status: str
    granted_scopes: list[str]
    instagram_account_type: str | None
    layer_id: str | None
    token_expires_at: WireTime | None
    created_at: WireTime


class MusicTrackIn(WireModel):
    id: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=300)
    artist: str = Field(min_length=1, max_length=300)
    link: str = Field(min_length=1, max_length=2000)


class MusicCatalogIn(WireModel):
    items: list[MusicTrackIn] = Field(max_length=10_000)


class MusicCatalogOut(ResponseModel):
    items: list[MusicTrackIn]


class SocialAccountListed(SocialAccountOut):
    """An account in the operator's listing: its organization, and why it was disconnected."""

    organization_id: str
    disconnected_reason: str | None = None
    disconnected_at: WireTime | None = None


class OperatorPostOut(ScheduledPostOut):
    """A scheduled post as the operator sees it: which organization, how many retries, which request."""

    organization_id: str
    retry_count: int
    request_id: str | None


class OperatorPostPage(ResponseModel):
    items: list[OperatorPostOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
