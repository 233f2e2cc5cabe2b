"""SQL of the publish path: set-based lookups and one INSERT ... SELECT FROM unnest(...) per batch.

Every statement here is built once at import: SQLAlchemy compiles each a single time and serves it
from its cache, whatever the batch size (a multi-row `insert().values(rows)` is a new statement for
every batch and was compiled afresh on every request). Rows come back as plain `Row`s, not ORM
objects: nothing on this path is ever updated through the identity map.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import ARRAY, ColumnElement, Row, Text, any_, bindparam, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.errors import DuplicateId, NotFound
from crier.core.ids import is_valid_id
from crier.models import ContentContainer, Layer, Project, ScheduledPost, SocialAccount, TiktokMusicTrack
from crier.webhooks.outbox import POST_EVENT_CTES, POST_EVENT_RETURNING

_PRIMARY_KEY = "pk_scheduled_posts"
_DUPLICATE_KEY = re.compile(r"\(id\)=\((?P<id>[^)]+)\)")


def any_of(values: list[str]) -> ColumnElement[Any]:
    """`= ANY(:array)`: one bound array, one statement plan, whatever the batch size."""
    return any_(bindparam(None, list(values), type_=ARRAY(Text)))


class LayerView(NamedTuple):
    """What readiness reads of an account's layer."""

    template_id: str
    config: dict[str, Any] | None


# Table columns, not ORM attributes: a plain Core statement skips the ORM's compile and result layers.
_containers = ContentContainer.__table__.c
_projects = Project.__table__.c
_accounts = SocialAccount.__table__.c
_layers = Layer.__table__.c

# The container with its project's approval policy, share-locked (the container row only).
_CONTAINER = (
    select(
        _containers.id,
        _containers.organization_id,
        _containers.project_id,
        _containers.status,
        _containers.approval_status,
        _containers.media_type,
        _containers.caption,
        _projects.requires_approval,
        _projects.first_n_posts_blocked,
        _projects.current_blocked_count,
    )
    .join(Project.__table__, _projects.id == _containers.project_id)
    .where(
        _containers.id == bindparam("container_id"),
        _containers.organization_id == bindparam("organization_id"),
    )
    .with_for_update(read=True, of=ContentContainer.__table__)
)
# Every column of the account (readiness may read any of them) and what readiness needs of its layer.
_ACCOUNTS = (
    select(
        SocialAccount.__table__,
        _layers.template_id.label("layer_template_id"),
        _layers.config.label("layer_config"),
    )
    .outerjoin(Layer.__table__, _layers.id == _accounts.layer_id)
    .where(
        _accounts.id == any_(bindparam("account_ids", type_=ARRAY(Text))),
        _accounts.organization_id == bindparam("organization_id"),
    )
)
_KNOWN_TRACKS = select(TiktokMusicTrack.__table__.c.id).where(
    TiktokMusicTrack.__table__.c.id == any_(bindparam("ids", type_=ARRAY(Text)))
)
_EXISTING_POSTS = select(ScheduledPost.__table__.c.id).where(
    ScheduledPost.__table__.c.id == any_(bindparam("ids", type_=ARRAY(Text)))
)

# The columns a batch writes, and the PostgreSQL type of each (the arrays are cast explicitly: the
# parameters of an INSERT ... SELECT get no type from the target columns). JSON travels as text.
_POST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "text"),
    ("organization_id", "text"),
    ("project_id", "text"),
    ("container_id", "text"),
    ("social_account_id", "text"),
    ("platform", "text"),
    ("mode", "text"),
    ("status", "text"),
    ("scheduled_for", "timestamptz"),
    ("due_at", "timestamptz"),
    ("batch_position", "integer"),
    ("caption_override", "text"),
    ("first_comment_override", "text"),
    ("tiktok_post_settings", "jsonb"),
    ("tiktok_music", "jsonb"),
    ("share_reel_to_feed", "boolean"),
    ("caption_sent", "text"),
    ("request_id", "text"),
)
# The batch's webhook events (post.scheduled) are written by the same statement (issue 11): the
# outbox CTEs read what the INSERT returns, and write nothing for a tenant without an endpoint.
_INSERT_POSTS = text(
    "WITH changed AS (INSERT INTO scheduled_posts ({columns}) SELECT {values} FROM unnest({arrays}) AS t({columns})"
    " RETURNING {returning}), {outbox} SELECT count(*) FROM changed".format(
        columns=", ".join(name for name, _ in _POST_COLUMNS),
        values=", ".join(
            f"t.{name}::jsonb" if kind == "jsonb" else f"t.{name}" for name, kind in _POST_COLUMNS
        ),
        arrays=", ".join(
            f"CAST(:{name} AS {'text' if kind == 'jsonb' else kind}[])" for name, kind in _POST_COLUMNS
        ),
        returning=POST_EVENT_RETURNING,
        outbox=POST_EVENT_CTES,
    )
)


async def lock_container(
    session: AsyncSession, *, organization_id: str, container_id: str
) -> Row[*tuple[Any, ...]]:
    """The container and its project's policy, share-locked so approve/reject/patch wait for this batch."""
    # Without the lock an approval could look for the stash before a concurrent /schedule's rows
    # are visible, leaving them blocked forever; publishes of one container still run side by side.
    if not is_valid_id(container_id, "cnt"):
        raise NotFound("Content container not found.")
    connection = await session.connection()  # the request's transaction, without the ORM layer
    container = (
        await connection.execute(
            _CONTAINER, {"container_id": container_id, "organization_id": organization_id}
        )
    ).first()
    if container is None:
        raise NotFound("Content container not found.")
    return container


async def accounts_by_id(
    session: AsyncSession, *, organization_id: str, account_ids: list[str]
) -> dict[str, tuple[Row[*tuple[Any, ...]], LayerView | None]]:
    """The organization's accounts among `account_ids`, each with its layer, in one query."""
    wanted = sorted({account_id for account_id in account_ids if is_valid_id(account_id, "sa")})
    if not wanted:
        return {}
    connection = await session.connection()
    rows = await connection.execute(_ACCOUNTS, {"account_ids": wanted, "organization_id": organization_id})
    return {
        row.id: (
            row,
            None if row.layer_template_id is None else LayerView(row.layer_template_id, row.layer_config),
        )
        for row in rows
    }


async def known_track_ids(session: AsyncSession, *, track_ids: list[str]) -> set[str]:
    if not track_ids:
        return set()
    connection = await session.connection()
    return set((await connection.execute(_KNOWN_TRACKS, {"ids": track_ids})).scalars())


async def existing_post_ids(session: AsyncSession, *, post_ids: list[str]) -> set[str]:
    """Which of the partner-supplied ids are taken already (a live row or a stashed target)."""
    if not post_ids:
        return set()
    connection = await session.connection()
    return set((await connection.execute(_EXISTING_POSTS, {"ids": post_ids})).scalars())


async def insert_posts(session: AsyncSession, *, rows: Sequence[dict[str, Any]]) -> None:
    """The whole batch in one INSERT; a partner id taken by a concurrent request is 409, not 500."""
    # The loser of such a race passed the existence check, waits here on the winner's uncommitted
    # key and fails once it commits; its aborted transaction is rolled back: nothing of it is written.
    arrays = {name: [row[name] for row in rows] for name, _ in _POST_COLUMNS}
    try:
        await (await session.connection()).execute(_INSERT_POSTS, arrays)
    except IntegrityError as exc:
        cause = exc.orig.__cause__ if exc.orig is not None else None
        if getattr(cause, "constraint_name", None) != _PRIMARY_KEY:
            raise
        match = _DUPLICATE_KEY.search(getattr(exc.orig, "detail", None) or "")
        details = {"scheduledPostId": match["id"]} if match else {}
        raise DuplicateId(
            "A scheduledPostId already exists; pick a fresh sp_<uuid>.", details=details
        ) from exc
