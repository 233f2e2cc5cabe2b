"""SQL of the publish path: set-based lookups and one INSERT ... SELECT FROM jsonb_to_recordset(...) per batch.

Every statement here is a fixed SQL text sent on the request's asyncpg connection (core.db's
driver_autocommit, or driver_connection under a session): asyncpg prepares each once per connection,
whatever the batch size, and no SQLAlchemy execution layer runs around the few statements every
publish sends. What a publish writes, it writes with one statement (insert_posts), atomic on its own
or within the caller's transaction. Rows come back as `DriverRow`s, not ORM objects: nothing on this
path is ever updated through the identity map.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson
from sqlalchemy.exc import DBAPIError

from crier.core.db import DriverRow, driver_call
from crier.core.errors import DuplicateId, NotFound
from crier.core.ids import is_valid_id
from crier.webhooks.outbox import POST_EVENT_CTES, POST_EVENT_RETURNING

_PRIMARY_KEY = "pk_scheduled_posts"
_DUPLICATE_KEY = re.compile(r"\(id\)=\((?P<id>[^)]+)\)")


# The container with its project's approval policy, as the checks read it (no lock: insert_posts
# locks the container and checks that it is still what was read, in the statement that writes).
_CONTAINER = """
SELECT c.id, c.organization_id, c.project_id, c.status, c.approval_status, c.media_type, c.caption,
       p.requires_approval, p.first_n_posts_blocked, p.current_blocked_count
FROM content_containers AS c JOIN projects AS p ON p.id = c.project_id
WHERE c.id = $1 AND c.organization_id = $2
"""
_KNOWN_TRACKS = "SELECT id FROM tiktok_music_tracks WHERE id = ANY($1::text[])"
_EXISTING_POSTS = "SELECT id FROM scheduled_posts WHERE id = ANY($1::text[])"

# The columns a batch writes, and the PostgreSQL type of each. JSONB values travel as JSON text.
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
# The whole batch travels as one JSON array of rows, which PostgreSQL expands with jsonb_to_recordset:
# one parameter encoded by orjson (asyncpg's array encoder inspects every element of every array in
# Python, and that was most of a 50-target publish's cost; the json module's encoder, with a Python
# callback per timestamp, still a sixth). The batch's webhook events (post.scheduled) are written by
# the same statement (issue 11): the outbox CTEs read what the INSERT returns, and write nothing for a
# tenant without an endpoint.
# The container is share-locked and compared with what the checks read ($2-$6) before any row is
# written: an approval, a rejection or an edit that lands between the read and this statement makes
# it write nothing, and the batch is decided again (publishing.service.accept). Share-locked until
# the batch commits, so that an approval looking for a /schedule's stash waits for these rows.
_INSERT_POSTS = (
    "WITH container AS (SELECT FROM content_containers WHERE id = $2 AND status = $3"
    " AND approval_status = $4 AND media_type = $5 AND caption IS NOT DISTINCT FROM $6 FOR SHARE),"
    " changed AS (INSERT INTO scheduled_posts ({columns}) SELECT {values}"
    " FROM jsonb_to_recordset($1::jsonb) AS t({typed}) WHERE EXISTS (SELECT FROM container)"
    " RETURNING {returning}), {outbox}"
    " SELECT count(*) FROM changed".format(
        columns=", ".join(name for name, _ in _POST_COLUMNS),
        values=", ".join(
            f"t.{name}::jsonb" if kind == "jsonb" else f"t.{name}" for name, kind in _POST_COLUMNS
        ),
        typed=", ".join(f"{name} {'text' if kind == 'jsonb' else kind}" for name, kind in _POST_COLUMNS),
        returning=POST_EVENT_RETURNING,
        outbox=POST_EVENT_CTES,
    )
)


POST_COLUMNS = frozenset(name for name, _ in _POST_COLUMNS)


def _batch_json(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as the JSON array _INSERT_POSTS reads (times in RFC 3339 with their offset).

    Each row holds exactly POST_COLUMNS (publishing.service._rows builds them so): a key the SQL
    does not name would be ignored, and a column missing from a row would be written NULL.
    """
    return orjson.dumps(rows).decode()  # the wire models refused NULs and lone surrogates already


async def read_container(
    connection: asyncpg.Connection, *, organization_id: str, container_id: str
) -> DriverRow:
    """The container and its project's approval policy, as the publish checks read them."""
    if not is_valid_id(container_id, "cnt"):
        raise NotFound("Content container not found.")
    container = await driver_call(connection.fetchrow(_CONTAINER, container_id, organization_id))
    if container is None:
        raise NotFound("Content container not found.")
    return DriverRow.of(container)


async def known_track_ids(connection: asyncpg.Connection, *, track_ids: list[str]) -> set[str]:
    if not track_ids:
        return set()
    return {row["id"] for row in await driver_call(connection.fetch(_KNOWN_TRACKS, track_ids))}


async def existing_post_ids(connection: asyncpg.Connection, *, post_ids: list[str]) -> set[str]:
    """Which of the partner-supplied ids are taken already (a live row or a stashed target)."""
    if not post_ids:
        return set()
    return {row["id"] for row in await driver_call(connection.fetch(_EXISTING_POSTS, post_ids))}


async def insert_posts(
    connection: asyncpg.Connection, *, container: DriverRow, rows: Sequence[dict[str, Any]]
) -> bool:
    """The whole batch in one INSERT, if `container` is unchanged; False (nothing written) if it changed.

    A partner id taken by a concurrent request is 409, not 500: the loser of such a race passed the
    existence check, waits here on the winner's uncommitted key and fails once it commits, and its
    statement writes nothing.
    """
    batch = _batch_json(rows)
    try:
        written = await driver_call(
            connection.fetchval(
                _INSERT_POSTS,
                batch,
                container.id,
                container.status,
                container.approval_status,
                container.media_type,
                container.caption,
            )
        )
    except DBAPIError as exc:
        cause = exc.orig
        if not isinstance(cause, asyncpg.UniqueViolationError) or cause.constraint_name != _PRIMARY_KEY:
            raise
        match = _DUPLICATE_KEY.search(cause.detail or "")
        details = {"scheduledPostId": match["id"]} if match else {}
        raise DuplicateId(
            "A scheduledPostId already exists; pick a fresh sp_<uuid>.", details=details
        ) from exc
    return bool(written)
