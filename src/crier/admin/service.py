"""Operator actions: set up tenants, keys, projects, layers, accounts and the music catalog.

Used by the operator API and the `crier admin` command alike. Functions flush; callers commit.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from crier.admin import repository, schemas
from crier.core import crypto
from crier.core.clock import utcnow
from crier.core.errors import Conflict, NotFound, validation_error
from crier.core.ids import is_valid_id, new_id
from crier.core.settings import get_settings
from crier.core.urls import url_problem
from crier.core.vocabulary import Platform
from crier.models import ApiKey, Layer, Organization, Project, ScheduledPost, SocialAccount, TiktokMusicTrack
from crier.scheduled_posts.service import decode_cursor, encode_cursor
from crier.tenancy.auth import KEY_PREFIX, forget_api_keys, generate_api_key, hash_api_key
from crier.tenancy.ownership import owned_or_404

# What an API key's stored prefix holds: `lp_live_` and four characters (shown in key listings).
KEY_PREFIX_LENGTH = 12

SECRET_CONFIG_KEYS = ("signingSecret", "secret")


# The rows an operator names by id.
_Row = TypeVar("_Row", Organization, ApiKey, Project, SocialAccount)


async def _get(
    session: AsyncSession, model: type[_Row], object_id: str, prefix: str, *, for_update: bool = False
) -> _Row:
    """The row with this id, whichever organization's (the operator's view), or 404."""
    found: _Row = await owned_or_404(
        lambda: repository.find_by_id(session, model, object_id, for_update=for_update),
        object_id=object_id,
        prefix=prefix,
        not_found=NotFound(f"No {model.__tablename__[:-1].replace('_', ' ')} with id {object_id!r}."),
    )
    return found


async def create_organization(session: AsyncSession, *, body: schemas.OrganizationIn) -> Organization:
    organization = Organization(
        id=new_id("org"),
        name=body.name,
        primary_operator_phone=body.primary_operator_phone,
        primary_operator_phone_verified=body.primary_operator_phone_verified
        and bool(body.primary_operator_phone),
    )
    session.add(organization)
    await session.flush()
    await session.refresh(organization)
    return organization


async def list_organizations(session: AsyncSession) -> list[Organization]:
    return await repository.list_organizations(session)


async def create_api_key(
    session: AsyncSession, *, organization_id: str, body: schemas.ApiKeyIn
) -> tuple[ApiKey, str]:
    """Mint a key; the plaintext is returned once and only its hash is stored."""
    await _get(session, Organization, organization_id, "org")
    key = generate_api_key()
    api_key = ApiKey(
        id=new_id("key"),
        organization_id=organization_id,
        name=body.name,
        key_hash=hash_api_key(key),
        key_prefix=key[:12],
        scopes=body.scopes,
        allowed_return_hosts=body.allowed_return_hosts,
    )
    session.add(api_key)
    await session.flush()
    await session.refresh(api_key)
    return api_key, key


async def list_api_keys(session: AsyncSession, *, organization_id: str | None) -> list[ApiKey]:
    if organization_id is not None:
        await _get(session, Organization, organization_id, "org")
    return await repository.list_api_keys(session, organization_id=organization_id)


async def _key_by_prefix(session: AsyncSession, prefix: str) -> ApiKey:
    """The one key whose listed prefix this is; two keys can share one (4 random characters)."""
    keys = await repository.api_keys_with_prefix(session, prefix=prefix)
    if not keys:
        raise NotFound(f"No API key with prefix {prefix!r}.")
    if len(keys) > 1:
        raise Conflict(
            f"{len(keys)} API keys share the prefix {prefix!r}; revoke one by id.",
            details={"keyIds": [key.id for key in keys]},
        )
    return keys[0]


async def revoke_api_key(session: AsyncSession, *, key_id: str) -> ApiKey:
    """Revoke by id (`key_...`) or by the prefix key listings show (`lp_live_abcd`); idempotent."""
    if key_id.startswith(KEY_PREFIX) and len(key_id) == KEY_PREFIX_LENGTH:
        api_key = await _key_by_prefix(session, key_id)
    else:
        api_key = await _get(session, ApiKey, key_id, "key", for_update=True)
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        await session.flush()
        forget_api_keys()  # this process stops honouring it now; other processes within KEY_CACHE_SECONDS
    return api_key


async def list_projects(session: AsyncSession, *, organization_id: str | None) -> list[Project]:
    if organization_id is not None:
        await _get(session, Organization, organization_id, "org")
    return await repository.list_projects(session, organization_id=organization_id)


async def list_social_accounts(
    session: AsyncSession, *, organization_id: str | None, project_id: str | None
) -> list[SocialAccount]:
    if organization_id is not None:
        await _get(session, Organization, organization_id, "org")
    if project_id is not None:
        await _get(session, Project, project_id, "prj")
    return await repository.list_social_accounts(
        session, organization_id=organization_id, project_id=project_id
    )


async def list_posts(
    session: AsyncSession, *, filters: repository.PostFilters, cursor: str | None, limit: int
) -> tuple[list[ScheduledPost], str | None]:
    """One page of posts across organizations, newest scheduledFor first, and the next page's cursor."""
    if filters.organization_id is not None:
        await _get(session, Organization, filters.organization_id, "org")
    before = decode_cursor(cursor) if cursor is not None else None
    rows = await repository.page_posts(session, filters=filters, before=before, limit=limit + 1)
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(last.scheduled_for, last.id)


async def create_project(session: AsyncSession, *, organization_id: str, body: schemas.ProjectIn) -> Project:
    await _get(session, Organization, organization_id, "org")
    project = Project(
        id=new_id("prj"),
        organization_id=organization_id,
        name=body.name,
        requires_approval=body.requires_approval,
        first_n_posts_blocked=body.first_n_posts_blocked,
        current_blocked_count=0,
    )
    session.add(project)
    await session.flush()
    await session.refresh(project)
    return project


async def create_layer(session: AsyncSession, *, project_id: str, body: schemas.LayerIn) -> Layer:
    project = await _get(session, Project, project_id, "prj")
    config: dict[str, Any] = dict(body.config)
    # Pop every secret-looking key, not just the first: whatever is left in config is returned.
    secrets = [config.pop(name) for name in SECRET_CONFIG_KEYS if name in config]
    secret = next((value for value in secrets if value), None)
    base_url = config.get("baseUrl")
    if base_url is not None:
        problem = url_problem(str(base_url), allowlist=get_settings().url_allowlist)
        if problem:
            raise validation_error("body.config.baseUrl", f"baseUrl {problem}")
    if config.get("provider") and (not base_url or not secret):
        raise validation_error("body.config", "a managed provider needs baseUrl and signingSecret")
    layer = Layer(
        id=new_id("lyr"),
        organization_id=project.organization_id,
        project_id=project.id,
        template_id=body.template_id,
        config=config,
        signing_secret_encrypted=crypto.encrypt(str(secret)) if secret else None,
    )
    session.add(layer)
    await session.flush()
    await session.refresh(layer)
    return layer


async def create_social_account(
    session: AsyncSession, *, project_id: str, body: schemas.SocialAccountIn
) -> SocialAccount:
    project = await _get(session, Project, project_id, "prj")
    if body.layer_id is not None:
        layer = (
            await repository.find_layer(session, layer_id=body.layer_id)
            if is_valid_id(body.layer_id, "lyr")
            else None
        )
        if layer is None or layer.project_id != project.id:
            raise validation_error("body.layerId", "layerId must name a layer of this project")
    account = SocialAccount(
        id=new_id("sa"),
        organization_id=project.organization_id,
        project_id=project.id,
        layer_id=body.layer_id,
        platform=body.platform,
        handle=body.handle.lstrip("@"),
        external_account_id=body.external_account_id,
        access_token_encrypted=crypto.encrypt(body.access_token),
        refresh_token_encrypted=crypto.encrypt(body.refresh_token) if body.refresh_token else None,
        token_expires_at=body.token_expires_at,
        granted_scopes=sorted(set(body.granted_scopes)),
        instagram_account_type=body.instagram_account_type if body.platform == Platform.INSTAGRAM else None,
        status="connected",
    )
    session.add(account)
    await session.flush()
    await session.refresh(account)
    return account


async def disconnect_social_account(
    session: AsyncSession, *, account_id: str, reason: str = "operator"
) -> SocialAccount:
    """The operator ends the account (`revoked`); its posts fail at delivery, none is canceled here."""
    account = await _get(session, SocialAccount, account_id, "sa", for_update=True)
    if account.status != "revoked":
        account.status = "revoked"
        account.disconnected_reason = reason
        account.disconnected_at = utcnow()
        await session.flush()
    return account


async def replace_music_catalog(
    session: AsyncSession, *, body: schemas.MusicCatalogIn
) -> list[TiktokMusicTrack]:
    ids = [item.id for item in body.items]
    if len(ids) != len(set(ids)):
        raise validation_error("body.items", "track ids must be unique")
    await repository.delete_music_catalog(session)
    tracks = [TiktokMusicTrack(id=i.id, title=i.title, artist=i.artist, link=i.link) for i in body.items]
    session.add_all(tracks)
    await session.flush()
    return tracks
