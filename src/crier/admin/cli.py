"""`crier admin ...`: the operator API's actions from a shell, straight against the database."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from pydantic import BaseModel, ValidationError

from crier.admin import schemas, service
from crier.core.errors import CrierError


async def _in_transaction(action) -> Any:
    from crier.core.db import get_engine, get_sessionmaker

    try:
        async with get_sessionmaker()() as session:
            result = await action(session)
            await session.commit()
            return result
    finally:
        await get_engine().dispose()


def _print(value: Any) -> None:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True)
    print(json.dumps(value, indent=2, default=str))


def _run(args: argparse.Namespace) -> int:
    try:
        _print(asyncio.run(_in_transaction(lambda session: args.action(session, args))))
        return 0
    except ValidationError as exc:
        print(f"invalid input: {exc}", file=sys.stderr)
    except CrierError as exc:
        print(f"{exc.code}: {exc.message} {exc.details or ''}".strip(), file=sys.stderr)
    return 2


async def _org_create(session, args):
    body = schemas.OrganizationIn(name=args.name, primary_operator_phone=args.phone,
                                  primary_operator_phone_verified=args.phone_verified)
    return schemas.OrganizationOut.model_validate(await service.create_organization(session, body=body))


async def _org_list(session, args):
    return [schemas.OrganizationOut.model_validate(o).model_dump(mode="json", by_alias=True)
            for o in await service.list_organizations(session)]


async def _key_create(session, args):
    hosts = [host for host in args.allowed_return_hosts.split(",") if host]
    body = schemas.ApiKeyIn(name=args.name, scopes=args.scopes.split(","), allowed_return_hosts=hosts)
    api_key, key = await service.create_api_key(session, organization_id=args.org, body=body)
    return {**schemas.ApiKeyOut.model_validate(api_key).model_dump(mode="json", by_alias=True), "key": key}


async def _key_revoke(session, args):
    return schemas.ApiKeyOut.model_validate(await service.revoke_api_key(session, key_id=args.key_id))


async def _project_create(session, args):
    body = schemas.ProjectIn(name=args.name, requires_approval=args.requires_approval,
                             first_n_posts_blocked=args.first_n_posts_blocked)
    return schemas.ProjectOut.model_validate(await service.create_project(session, organization_id=args.org, body=body))


async def _layer_create(session, args):
    body = schemas.LayerIn(template_id=args.template_id, config=json.loads(args.config))
    layer = await service.create_layer(session, project_id=args.project, body=body)
    return {"id": layer.id, "projectId": layer.project_id, "templateId": layer.template_id, "config": layer.config}


async def _account_create(session, args):
    body = schemas.SocialAccountIn.model_validate(json.loads(args.json))
    return schemas.SocialAccountOut.model_validate(
        await service.create_social_account(session, project_id=args.project, body=body))


async def _account_disconnect(session, args):
    return schemas.SocialAccountOut.model_validate(
        await service.disconnect_social_account(session, account_id=args.account_id))


def _rotate_keys(args: argparse.Namespace) -> int:
    from crier.admin.key_rotation import rotate_all
    from crier.core.db import get_engine, get_sessionmaker

    async def rotate() -> dict[str, Any]:
        try:
            return await rotate_all(get_sessionmaker(), batch_size=args.batch_size)
        finally:
            await get_engine().dispose()

    tallies = asyncio.run(rotate())
    _print({table: tally.as_wire() for table, tally in tallies.items()})
    stuck = [item for tally in tallies.values() for item in tally.undecryptable]
    if stuck:
        print(f"{len(stuck)} secrets were encrypted with a key that is no longer in CRIER_ENCRYPTION_KEYS; "
              "put it back (after the new one) and run again before dropping any key.", file=sys.stderr)
        return 1
    return 0


async def _music_set(session, args):
    with open(args.file) as handle:
        body = schemas.MusicCatalogIn.model_validate(json.load(handle))
    tracks = await service.replace_music_catalog(session, body=body)
    return {"items": [{"id": t.id, "title": t.title, "artist": t.artist, "link": t.link} for t in tracks]}


def add_admin_commands(commands: argparse._SubParsersAction) -> None:
    admin = commands.add_parser("admin", help="operator tasks (same as /admin/v1)")
    groups = admin.add_subparsers(dest="group", required=True)

    def action(group, name, func, help_text):
        parser = group.add_parser(name, help=help_text)
        parser.set_defaults(run=_run, action=func)
        return parser

    org = groups.add_parser("org", help="organizations").add_subparsers(dest="verb", required=True)
    p = action(org, "create", _org_create, "create an organization")
    p.add_argument("--name", required=True)
    p.add_argument("--phone", help="primary operator phone, E.164")
    p.add_argument("--phone-verified", action="store_true")
    action(org, "list", _org_list, "list organizations")

    key = groups.add_parser("key", help="API keys").add_subparsers(dest="verb", required=True)
    p = action(key, "create", _key_create, "mint an API key (printed once)")
    p.add_argument("--org", required=True)
    p.add_argument("--name", default="default")
    p.add_argument("--scopes", default="content:read,content:write,content:approve,publish:read,publish:write,accounts:read")
    p.add_argument("--allowed-return-hosts", default="",
                   help="comma-separated hosts an OAuth returnUrl may point at (app.example.com,localhost:3000)")
    p = action(key, "revoke", _key_revoke, "revoke an API key")
    p.add_argument("key_id")

    project = groups.add_parser("project", help="projects").add_subparsers(dest="verb", required=True)
    p = action(project, "create", _project_create, "create a project")
    p.add_argument("--org", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--requires-approval", action="store_true")
    p.add_argument("--first-n-posts-blocked", type=int)

    layer = groups.add_parser("layer", help="layers").add_subparsers(dest="verb", required=True)
    p = action(layer, "create", _layer_create, "create a layer")
    p.add_argument("--project", required=True)
    p.add_argument("--template-id", required=True)
    p.add_argument("--config", default="{}", help="JSON object, e.g. provider/baseUrl/signingSecret")

    account = groups.add_parser("account", help="social accounts").add_subparsers(dest="verb", required=True)
    p = action(account, "create", _account_create, "connect a social account")
    p.add_argument("--project", required=True)
    p.add_argument("--json", required=True, help="the operator API body as JSON")
    p = action(account, "disconnect", _account_disconnect, "disconnect a social account")
    p.add_argument("account_id")

    rotate = groups.add_parser("rotate-keys", help="re-encrypt stored tokens and signing secrets with the "
                                                   "first CRIER_ENCRYPTION_KEYS key (README: Key rotation)")
    rotate.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    rotate.set_defaults(run=_rotate_keys)

    music = groups.add_parser("music", help="TikTok music catalog").add_subparsers(dest="verb", required=True)
    p = action(music, "set", _music_set, "replace the catalog from a JSON file {items: [...]}")
    p.add_argument("--file", required=True)
