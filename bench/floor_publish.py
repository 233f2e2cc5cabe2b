"""The publish floor: a bare Starlette + asyncpg app doing the SQL effects of `POST /v1/content/{id}/publish`.

    python -m bench.floor_publish --port 8123     (DATABASE_URL from the environment)

What `make bench` reads Crier's publish figures against. Same server (uvicorn, one process, uvloop and
httptools as `crier api` gets them), same tables, same effects, no framework around them: the API key
looked up by its sha256, the container `FOR SHARE`, the accounts by `= ANY($1)`, and the whole batch in one
`INSERT ... SELECT FROM unnest(...)`, in one transaction; the answer is `{"scheduledPostIds": [...]}`.
It checks only what decides whether rows may be written (key, scope, container completed and in the
organization, accounts of the container's project); Crier's full contract checks are Crier's cost.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

KEY = "SELECT organization_id, scopes FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
CONTAINER = (
    "SELECT project_id, status, approval_status, caption FROM content_containers "
    "WHERE id = $1 AND organization_id = $2 FOR SHARE"
)
ACCOUNTS = (
    "SELECT id, platform, project_id FROM social_accounts WHERE id = ANY($1::text[]) AND organization_id = $2"
)
INSERT = """
INSERT INTO scheduled_posts (id, organization_id, project_id, container_id, social_account_id, platform, mode,
                             status, scheduled_for, due_at, batch_position, caption_override, caption_sent)
SELECT t.id, $1, $2, $3, t.account, t.platform, t.mode, 'scheduled', now(), now(), t.position, t.caption,
       coalesce(t.caption, $4, '')
FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::text[])
     AS t(id, account, platform, mode, position, caption)
"""


def _error(status: int, code: str) -> Response:
    return JSONResponse(
        {"error": {"code": code, "message": code.lower(), "requestId": None, "details": {}}},
        status_code=status,
    )


async def publish(request: Request) -> Response:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return _error(401, "UNAUTHORIZED")
    body = json.loads(await request.body())
    targets = body["targets"]
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as connection:
        key = await connection.fetchrow(KEY, hashlib.sha256(token.strip().encode()).hexdigest())
        if key is None:
            return _error(401, "UNAUTHORIZED")
        if "publish:write" not in key["scopes"]:
            return _error(403, "FORBIDDEN_SCOPE")
        organization_id = key["organization_id"]
        async with connection.transaction():
            container = await connection.fetchrow(
                CONTAINER, request.path_params["container_id"], organization_id
            )
            if container is None:
                return _error(404, "NOT_FOUND")
            if container["status"] != "completed" or container["approval_status"] == "rejected":
                return _error(409, "CONFLICT")
            account_ids = [target["socialAccountId"] for target in targets]
            accounts = {
                row["id"]: row
                for row in await connection.fetch(ACCOUNTS, sorted(set(account_ids)), organization_id)
            }
            if any(
                accounts.get(a) is None or accounts[a]["project_id"] != container["project_id"]
                for a in account_ids
            ):
                return _error(404, "NOT_FOUND")
            ids = [f"sp_{uuid.uuid4()}" for _ in targets]
            await connection.execute(
                INSERT,
                organization_id,
                container["project_id"],
                request.path_params["container_id"],
                container["caption"],
                ids,
                account_ids,
                [accounts[a]["platform"] for a in account_ids],
                [target["mode"] for target in targets],
                list(range(len(targets))),
                [target.get("captionOverride") for target in targets],
            )
    return JSONResponse({"scheduledPostIds": ids})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # The pool Crier's engine has: up to 2 × CRIER_DATABASE_POOL_SIZE connections, kept open.
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    size = int(os.environ.get("CRIER_DATABASE_POOL_SIZE", "10"))
    app.state.pool = await asyncpg.create_pool(
        url,
        min_size=size,
        max_size=2 * size,
        server_settings={"application_name": "floor", "timezone": "UTC"},
    )
    yield
    await app.state.pool.close()


async def ready(_: Request) -> Response:
    return Response("ok")


def create_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/v1/content/{container_id}/publish", publish, methods=["POST"]),
            Route("/readyz", ready, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.floor_publish")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        "bench.floor_publish:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
