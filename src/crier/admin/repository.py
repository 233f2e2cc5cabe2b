"""SQL of the operator: lookups by id, read views of keys, projects, accounts and posts across
organizations, the music catalog, and the batches of encrypted secrets that key rotation rewrites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Row, delete, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from crier.models import ApiKey, Layer, Organization, Project, ScheduledPost, SocialAccount, TiktokMusicTrack


async def find_by_id(
    session: AsyncSession, model: type[Any], object_id: str, *, for_update: bool = False
) -> Any:
    """The row of `model` with this id (of any organization), or None."""
    statement = select(model).where(model.id == object_id)
    if for_update:
        statement = statement.with_for_update()
    return await session.scalar(statement)


async def list_organizations(session: AsyncSession) -> list[Organization]:
    return list(
        await session.scalars(select(Organization).order_by(Organization.created_at, Organization.id))
    )


async def find_layer(session: AsyncSession, *, layer_id: str) -> Layer | None:
    return await session.scalar(select(Layer).where(Layer.id == layer_id))


async def delete_music_catalog(session: AsyncSession) -> None:
    await session.execute(delete(TiktokMusicTrack))


async def encrypted_batch(
    session: AsyncSession, *, model: type[Any], columns: tuple[str, ...], after: str, limit: int
) -> list[Row[*tuple[Any, ...]]]:
    """Up to `limit` rows with ids after `after`, in id order: each id and its encrypted `columns`."""
    return list(
        (
            await session.execute(
                select(model.id, *(getattr(model, name) for name in columns))
                .where(model.id > after)
                .order_by(model.id)
                .limit(limit)
            )
        ).all()
    )


async def swap_ciphertext(
    session: AsyncSession, *, model: type[Any], row_id: str, column: str, old: str, new: str
) -> bool:
    """Write `new` where the column still holds `old`; False when another writer changed it first."""
    # Compare-and-swap: a worker that refreshed this token meanwhile wrote a newer one (with the
    # newest key already); putting the old token back would undo a rotation TikTok made.
    # updated_at is kept: re-encrypting changes no data.
    statement = (
        update(model)
        .where(model.id == row_id, getattr(model, column) == old)
        .values({column: new, "updated_at": model.updated_at})
        .execution_options(synchronize_session=False)
    )
    result = cast("CursorResult[Any]", await session.execute(statement))  # an UPDATE's result counts rows
    return bool(result.rowcount)


async def list_api_keys(session: AsyncSession, *, organization_id: str | None) -> list[ApiKey]:
    statement = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if organization_id is not None:
        statement = statement.where(ApiKey.organization_id == organization_id)
    return list(await session.scalars(statement))


async def api_keys_with_prefix(session: AsyncSession, *, prefix: str) -> list[ApiKey]:
    statement = select(ApiKey).where(ApiKey.key_prefix == prefix).order_by(ApiKey.created_at, ApiKey.id)
    return list(await session.scalars(statement.with_for_update()))


async def api_key_by_hash(session: AsyncSession, *, key_hash: str) -> ApiKey | None:
    return await session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash).with_for_update())


async def list_projects(session: AsyncSession, *, organization_id: str | None) -> list[Project]:
    statement = select(Project).order_by(Project.created_at, Project.id)
    if organization_id is not None:
        statement = statement.where(Project.organization_id == organization_id)
    return list(await session.scalars(statement))


async def list_social_accounts(
    session: AsyncSession, *, organization_id: str | None, project_id: str | None
) -> list[SocialAccount]:
    statement = select(SocialAccount).order_by(SocialAccount.created_at, SocialAccount.id)
    if organization_id is not None:
        statement = statement.where(SocialAccount.organization_id == organization_id)
    if project_id is not None:
        statement = statement.where(SocialAccount.project_id == project_id)
    return list(await session.scalars(statement))


@dataclass(frozen=True)
class PostFilters:
    organization_id: str | None = None
    status: str | None = None
    platform: str | None = None
    error_code: str | None = None
    scheduled_from: datetime | None = None
    scheduled_to: datetime | None = None


async def page_posts(
    session: AsyncSession, *, filters: PostFilters, before: tuple[datetime, str] | None, limit: int
) -> list[ScheduledPost]:
    """Up to `limit` posts of any organization, newest scheduledFor first, after the cursor `before`."""
    statement = select(ScheduledPost)
    for column, value in (
        (ScheduledPost.organization_id, filters.organization_id),
        (ScheduledPost.status, filters.status),
        (ScheduledPost.platform, filters.platform),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if filters.error_code is not None:
        statement = statement.where(ScheduledPost.last_error["code"].astext == filters.error_code)
    if filters.scheduled_from is not None:
        statement = statement.where(ScheduledPost.scheduled_for >= filters.scheduled_from)
    if filters.scheduled_to is not None:
        statement = statement.where(ScheduledPost.scheduled_for < filters.scheduled_to)
    if before is not None:
        statement = statement.where(
            tuple_(ScheduledPost.scheduled_for, ScheduledPost.id)
            < tuple_(literal(before[0]), literal(before[1]))
        )
    statement = statement.order_by(ScheduledPost.scheduled_for.desc(), ScheduledPost.id.desc()).limit(limit)
    return list(await session.scalars(statement))
