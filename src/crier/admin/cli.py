"""`crier admin ...`: the operator API's actions from a shell, straight against the database.

With DATABASE_URL unset, the commands use the stack a running `make dev` recorded in
`.data/dev-stack.json`. Answers are JSON on stdout; every mistake is one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from crier.admin import schemas, service
from crier.core.errors import CrierError
from crier.core.schemas import UtcDateTime
from crier.core.settings import ConfigError, load_settings
from crier.core.vocabulary import Platform, PostStatus

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# One `crier admin` verb: runs in a transaction of its own and returns what is printed.
Action = Callable[["AsyncSession", argparse.Namespace], Awaitable[Any]]
_Parser = TypeVar("_Parser", bound=argparse.ArgumentParser)  # `crier`'s own parser class, kept by subparsers

DEFAULT_SCOPES = "content:read,content:write,content:approve,publish:read,publish:write,accounts:read"


class InputProblem(Exception):
    """An argument or file the operator gave cannot be used (exit 2, one line)."""


def _one_line(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        location = ".".join(str(part) for part in item.get("loc", ()))
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


async def _in_transaction(action: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    from crier.core.db import get_engine, unit_of_work

    try:
        async with unit_of_work() as session:
            return await action(session)
    finally:
        await get_engine().dispose()


def _print(value: Any) -> None:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True)
    elif isinstance(value, list):
        value = [
            item.model_dump(mode="json", by_alias=True) if isinstance(item, BaseModel) else item
            for item in value
        ]
    print(json.dumps(value, indent=2, default=str))


def _connect() -> None:
    """Find the database: DATABASE_URL (environment or .env), else the running `make dev` stack."""
    from crier.core.stackfile import stack_path, use_running_stack

    use_running_stack()
    settings = load_settings()
    if not settings.database_url:
        raise ConfigError(
            f"DATABASE_URL is not set and no `make dev` is running here ({stack_path()} "
            "absent or stale); start `make dev` or set DATABASE_URL"
        )


def _run(args: argparse.Namespace) -> int:
    try:
        _connect()
        _print(asyncio.run(_in_transaction(lambda session: args.action(session, args))))
        return 0
    except ConfigError:
        raise  # the top level says "config problem"
    except ValidationError as exc:
        print(f"crier admin: invalid input: {_one_line(exc)}", file=sys.stderr)
    except InputProblem as exc:
        print(f"crier admin: {exc}", file=sys.stderr)
    except CrierError as exc:
        details = f" {json.dumps(exc.details)}" if exc.details else ""
        print(f"crier admin: {exc.code}: {exc.message}{details}", file=sys.stderr)
        return 1
    except OSError as exc:  # PostgreSQL unreachable (asyncpg raises OSError subclasses)
        print(f"crier admin: cannot reach PostgreSQL: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 2


def _json_argument(raw: str, what: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputProblem(f"{what} is not valid JSON ({exc.msg} at character {exc.pos})") from None


def _json_file(path: str) -> Any:
    try:
        with open(path) as handle:
            return json.load(handle)
    except OSError as exc:
        raise InputProblem(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise InputProblem(f"{path} is not valid JSON: {exc}") from None


def _org_filter(args: argparse.Namespace) -> str | None:
    return getattr(args, "org", None)


# --- organizations --------------------------------------------------------------------------------


async def _org_create(session: AsyncSession, args: argparse.Namespace) -> Any:
    body = schemas.OrganizationIn(
        name=args.name, primary_operator_phone=args.phone, primary_operator_phone_verified=args.phone_verified
    )
    return schemas.OrganizationOut.model_validate(await service.create_organization(session, body=body))


async def _org_list(session: AsyncSession, args: argparse.Namespace) -> Any:
    return [schemas.OrganizationOut.model_validate(o) for o in await service.list_organizations(session)]


# --- API keys -------------------------------------------------------------------------------------


async def _key_create(session: AsyncSession, args: argparse.Namespace) -> Any:
    hosts = [host.strip() for host in args.allowed_return_hosts.split(",") if host.strip()]
    body = schemas.ApiKeyIn(
        name=args.name, scopes=[scope.strip() for scope in args.scopes.split(",")], allowed_return_hosts=hosts
    )
    api_key, key = await service.create_api_key(session, organization_id=args.org, body=body)
    return {**schemas.ApiKeyOut.model_validate(api_key).model_dump(mode="json", by_alias=True), "key": key}


async def _key_list(session: AsyncSession, args: argparse.Namespace) -> Any:
    return [
        schemas.ApiKeyOut.model_validate(k)
        for k in await service.list_api_keys(session, organization_id=_org_filter(args))
    ]


async def _key_revoke(session: AsyncSession, args: argparse.Namespace) -> Any:
    return schemas.ApiKeyOut.model_validate(await service.revoke_api_key(session, key_id=args.key))


# --- projects, layers, accounts -------------------------------------------------------------------


async def _project_create(session: AsyncSession, args: argparse.Namespace) -> Any:
    body = schemas.ProjectIn(
        name=args.name,
        requires_approval=args.requires_approval,
        first_n_posts_blocked=args.first_n_posts_blocked,
    )
    return schemas.ProjectOut.model_validate(
        await service.create_project(session, organization_id=args.org, body=body)
    )


async def _project_list(session: AsyncSession, args: argparse.Namespace) -> Any:
    return [
        schemas.ProjectOut.model_validate(p)
        for p in await service.list_projects(session, organization_id=_org_filter(args))
    ]


async def _layer_create(session: AsyncSession, args: argparse.Namespace) -> Any:
    body = schemas.LayerIn(template_id=args.template_id, config=_json_argument(args.config, "--config"))
    layer = await service.create_layer(session, project_id=args.project, body=body)
    return {
        "id": layer.id,
        "projectId": layer.project_id,
        "templateId": layer.template_id,
        "config": layer.config,
    }


async def _account_create(session: AsyncSession, args: argparse.Namespace) -> Any:
    body = schemas.SocialAccountIn.model_validate(_json_argument(args.json, "--json"))
    return schemas.SocialAccountOut.model_validate(
        await service.create_social_account(session, project_id=args.project, body=body)
    )


async def _account_list(session: AsyncSession, args: argparse.Namespace) -> Any:
    accounts = await service.list_social_accounts(
        session, organization_id=_org_filter(args), project_id=args.project
    )
    return [schemas.SocialAccountListed.model_validate(a) for a in accounts]


async def _account_disconnect(session: AsyncSession, args: argparse.Namespace) -> Any:
    return schemas.SocialAccountOut.model_validate(
        await service.disconnect_social_account(session, account_id=args.account_id)
    )


# --- posts across organizations -------------------------------------------------------------------

_WHEN = TypeAdapter(UtcDateTime)


def _when(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    try:
        return _WHEN.validate_python(value)
    except ValidationError:
        raise InputProblem(
            f"{flag} must be an RFC 3339 time with an offset, e.g. 2026-01-31T09:00:00Z"
        ) from None


async def _post_list(session: AsyncSession, args: argparse.Namespace) -> Any:
    from crier.admin.repository import PostFilters

    filters = PostFilters(
        organization_id=args.org,
        status=args.status,
        platform=args.platform,
        error_code=args.error_code,
        scheduled_from=_when(args.scheduled_from, "--from"),
        scheduled_to=_when(args.scheduled_to, "--to"),
    )
    items, next_cursor = await service.list_posts(
        session, filters=filters, cursor=args.cursor, limit=args.limit
    )
    return schemas.OperatorPostPage(
        items=[schemas.OperatorPostOut.model_validate(p) for p in items], next_cursor=next_cursor
    )


# --- music catalog and key rotation ---------------------------------------------------------------


async def _music_set(session: AsyncSession, args: argparse.Namespace) -> Any:
    body = schemas.MusicCatalogIn.model_validate(_json_file(args.file))
    tracks = await service.replace_music_catalog(session, body=body)
    return {"items": [{"id": t.id, "title": t.title, "artist": t.artist, "link": t.link} for t in tracks]}


def _rotate_keys(args: argparse.Namespace) -> int:
    from crier.admin.key_rotation import rotate_all
    from crier.core.db import get_engine, get_sessionmaker

    _connect()

    async def rotate() -> dict[str, Any]:
        try:
            return await rotate_all(get_sessionmaker(), batch_size=args.batch_size)
        finally:
            await get_engine().dispose()

    tallies = asyncio.run(rotate())
    _print({table: tally.as_wire() for table, tally in tallies.items()})
    stuck = [item for tally in tallies.values() for item in tally.undecryptable]
    if stuck:
        print(
            f"{len(stuck)} secrets were encrypted with a key that is no longer in CRIER_ENCRYPTION_KEYS; "
            "put it back (after the new one) and run again before dropping any key.",
            file=sys.stderr,
        )
        return 1
    return 0


def _page_size(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 200:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a page size from 1 to 200")
    return int(raw)


def add_admin_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    admin = commands.add_parser(
        "admin", help="operator tasks (same as /admin/v1)", description=__doc__.splitlines()[0]
    )
    groups = admin.add_subparsers(dest="group", required=True, metavar="GROUP")

    def action(
        group: argparse._SubParsersAction[_Parser], name: str, func: Action, help_text: str
    ) -> _Parser:
        parser = group.add_parser(name, help=help_text)
        parser.set_defaults(run=_run, action=func)
        return parser

    def verbs(name: str, help_text: str) -> argparse._SubParsersAction[_Parser]:
        return groups.add_parser(name, help=help_text).add_subparsers(
            dest="verb", required=True, metavar="VERB"
        )

    org = verbs("org", "organizations")
    p = action(org, "create", _org_create, "create an organization")
    p.add_argument("--name", required=True)
    p.add_argument("--phone", help="primary operator phone, E.164")
    p.add_argument("--phone-verified", action="store_true")
    action(org, "list", _org_list, "list organizations")

    key = verbs("key", "API keys")
    p = action(key, "create", _key_create, "mint an API key (printed once)")
    p.add_argument("--org", required=True)
    p.add_argument("--name", default="default")
    p.add_argument("--scopes", default=DEFAULT_SCOPES, help=f"comma-separated (default: {DEFAULT_SCOPES})")
    p.add_argument(
        "--allowed-return-hosts",
        default="",
        help="comma-separated hosts an OAuth returnUrl may point at (app.example.com,localhost:3000)",
    )
    p = action(key, "list", _key_list, "list API keys: prefix, scopes, created, revoked (never the key)")
    p.add_argument("--org")
    p = action(
        key, "revoke", _key_revoke, "revoke an API key by id (key_...) or listed prefix (lp_live_abcd)"
    )
    p.add_argument("key", metavar="KEY_ID_OR_PREFIX")

    project = verbs("project", "projects")
    p = action(project, "create", _project_create, "create a project")
    p.add_argument("--org", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--requires-approval", action="store_true")
    p.add_argument("--first-n-posts-blocked", type=int)
    p = action(project, "list", _project_list, "list projects")
    p.add_argument("--org")

    layer = verbs("layer", "layers")
    p = action(layer, "create", _layer_create, "create a layer")
    p.add_argument("--project", required=True)
    p.add_argument("--template-id", required=True)
    p.add_argument("--config", default="{}", help="JSON object, e.g. provider/baseUrl/signingSecret")

    account = verbs("account", "social accounts")
    p = action(account, "create", _account_create, "connect a social account")
    p.add_argument("--project", required=True)
    p.add_argument("--json", required=True, help="the operator API body as JSON")
    p = action(account, "list", _account_list, "list social accounts (never their tokens)")
    p.add_argument("--org")
    p.add_argument("--project")
    p = action(account, "disconnect", _account_disconnect, "disconnect a social account")
    p.add_argument("account_id")

    post = verbs("post", "scheduled posts across organizations")
    p = action(post, "list", _post_list, "list posts, newest scheduledFor first")
    p.add_argument("--org")
    p.add_argument(
        "--status",
        choices=[status.value for status in PostStatus],
    )
    p.add_argument("--platform", choices=[platform.value for platform in Platform])
    p.add_argument("--error-code", help="lastError.code, e.g. OUTCOME_UNKNOWN or TIKTOK_rate_limit_exceeded")
    p.add_argument("--from", dest="scheduled_from", help="scheduledFor at or after (RFC 3339)")
    p.add_argument("--to", dest="scheduled_to", help="scheduledFor before (RFC 3339)")
    p.add_argument("--limit", type=_page_size, default=50, help="posts per page, 1..200 (default 50)")
    p.add_argument("--cursor", help="nextCursor of the previous page")

    rotate = groups.add_parser(
        "rotate-keys",
        help="re-encrypt stored tokens and signing secrets with the "
        "first CRIER_ENCRYPTION_KEYS key (README: Key rotation)",
    )
    rotate.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    rotate.set_defaults(run=_rotate_keys)

    music = verbs("music", "TikTok music catalog")
    p = action(music, "set", _music_set, "replace the catalog from a JSON file (examples/music-catalog.json)")
    p.add_argument("--file", required=True)
