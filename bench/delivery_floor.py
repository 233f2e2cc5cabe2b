"""The delivery floor: the least a crash-safe worker must do per TikTok post, on bare asyncpg + httpx.

    python -m bench.delivery_floor --platform-url URL [--until-idle SECONDS]     (DATABASE_URL from the env)

Per post, the same work and the same platform calls as `crier worker` against the same sandbox:
a batched `FOR UPDATE SKIP LOCKED` claim with an attempt bump and a lease (returning the account's
token ciphertext), the token decrypted, creator_info, an intent write, the init, a handle write, status
polls (after the same 0.5 s first delay as Crier's policy), and a final write fenced on the attempt.
Nothing else: no ORM, no adapter classes, no logging, no lease renewal, no rescue, no retries (any
error just fails the post). Concurrency is bounded by the pool (20 connections, Crier's default
pool + overflow) and the HTTP client's limits (Crier's), never by a slot count.

It runs until nothing has been due for `--until-idle` seconds, then prints one JSON line with the
posts it ended and its own CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any

import asyncpg
import httpx

from crier.core import crypto
from crier.core.db import async_url

POOL_SIZE = 20  # Crier's default database_pool_size (10) + max_overflow (10)
HTTP_CONNECTIONS = 20  # requests in flight to the platform host: its kept-alive connections, never a queue
CLAIM_BATCH = 200
MAX_IN_FLIGHT = 1000
LEASE_SECONDS = 60.0
FIRST_POLL_SECONDS = 0.5  # crier.delivery.policy.POLL_MIN_SECONDS

CLAIM = """
    WITH due AS (
        SELECT id FROM scheduled_posts
        WHERE status IN ('scheduled', 'publishing') AND due_at <= now()
        ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED
    )
    UPDATE scheduled_posts AS sp
    SET status = 'publishing', attempt = sp.attempt + 1,
        lease_expires_at = now() + $2 * interval '1 second', due_at = now() + $2 * interval '1 second',
        attempted_at = coalesce(sp.attempted_at, now()), updated_at = now()
    FROM due, social_accounts AS a, content_containers AS c
    WHERE sp.id = due.id AND a.id = sp.social_account_id AND c.id = sp.container_id
    RETURNING sp.id, sp.attempt, a.access_token_encrypted, coalesce(sp.caption_override, c.caption, '') AS caption,
              c.media
"""
JOURNAL = (
    "UPDATE scheduled_posts SET journal = journal || $3::jsonb, updated_at = now() "
    "WHERE id = $1 AND attempt = $2 AND status = 'publishing'"
)
DONE = (
    "UPDATE scheduled_posts SET status = $3, published_at = now(), external_id = $4, external_url = $5, "
    "due_at = NULL, lease_expires_at = NULL, updated_at = now() "
    "WHERE id = $1 AND attempt = $2 AND status = 'publishing'"
)
FAILED = (
    "UPDATE scheduled_posts SET status = 'failed', last_error = $3::jsonb, due_at = NULL, "
    "lease_expires_at = NULL, updated_at = now() WHERE id = $1 AND attempt = $2 AND status = 'publishing'"
)


class Floor:
    def __init__(self, pool: asyncpg.Pool, http: httpx.AsyncClient, base: str) -> None:
        self.pool, self.http, self.base = pool, http, base.rstrip("/") + "/tiktok"
        self.in_flight: set[asyncio.Task[None]] = set()
        self.connections = asyncio.Semaphore(HTTP_CONNECTIONS)
        self.ended = 0
        self.failed = 0

    async def call(self, token: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self.connections:
            response = await self.http.post(
                self.base + path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
        envelope = response.json()
        if response.status_code != 200 or envelope.get("error", {}).get("code") not in (None, "ok"):
            raise RuntimeError(f"{path}: {response.status_code}")
        return envelope["data"]

    async def deliver(self, row: asyncpg.Record) -> None:
        post_id, attempt = row["id"], row["attempt"]
        try:
            token = crypto.decrypt(row["access_token_encrypted"])
            media = json.loads(row["media"]) if isinstance(row["media"], str) else row["media"]
            creator = await self.call(token, "/v2/post/publish/creator_info/query/")
            await self.pool.execute(JOURNAL, post_id, attempt, '{"tiktok_init_sent": true}')
            body = {
                "post_info": {
                    "title": row["caption"],
                    "privacy_level": creator["privacy_level_options"][0],
                    "disable_duet": False,
                    "disable_comment": False,
                    "disable_stitch": False,
                    "brand_content_toggle": False,
                    "brand_organic_toggle": False,
                },
                "source_info": {"source": "PULL_FROM_URL", "video_url": media[0]["url"]},
            }
            init = await self.call(token, "/v2/post/publish/video/init/", body)
            publish_id = init["publish_id"]
            await self.pool.execute(
                JOURNAL,
                post_id,
                attempt,
                json.dumps({"tiktok_publish_id": publish_id, "tiktok_username": creator["creator_username"]}),
            )
            delay = FIRST_POLL_SECONDS
            while True:
                await asyncio.sleep(delay)
                status = await self.call(token, "/v2/post/publish/status/fetch/", {"publish_id": publish_id})
                if status["status"] == "PUBLISH_COMPLETE" and status.get("publicaly_available_post_id"):
                    external_id = str(status["publicaly_available_post_id"][0])
                    url = f"https://www.tiktok.com/@{creator['creator_username']}/video/{external_id}"
                    await self.pool.execute(DONE, post_id, attempt, "published", external_id, url)
                    break
                delay = min(15.0, delay * 2)
            self.ended += 1
        except Exception as exc:
            self.failed += 1
            await self.pool.execute(
                FAILED,
                post_id,
                attempt,
                json.dumps({"code": "FLOOR", "message": type(exc).__name__, "platform": "tiktok"}),
            )

    async def run(self, until_idle: float) -> None:
        idle_since = time.monotonic()
        while True:
            free = min(CLAIM_BATCH, MAX_IN_FLIGHT - len(self.in_flight))
            rows = await self.pool.fetch(CLAIM, free, LEASE_SECONDS) if free > 0 else []
            for row in rows:
                task = asyncio.create_task(self.deliver(row))
                self.in_flight.add(task)
                task.add_done_callback(self.in_flight.discard)
            if rows or self.in_flight:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > until_idle:
                return
            # A full batch: claim again at once; otherwise a short tick, like a sweep.
            await asyncio.sleep(0 if len(rows) == free and free > 0 else 0.05)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    dsn = async_url(os.environ["DATABASE_URL"]).replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(
        dsn,
        min_size=POOL_SIZE,
        max_size=POOL_SIZE,
        server_settings={"application_name": "crier-floor", "timezone": "UTC"},
    )
    limits = httpx.Limits(max_connections=HTTP_CONNECTIONS, max_keepalive_connections=HTTP_CONNECTIONS)
    async with httpx.AsyncClient(timeout=10, limits=limits) as http:
        floor = Floor(pool, http, args.platform_url)
        began, cpu = time.monotonic(), time.process_time()
        await floor.run(args.until_idle)
        wall, cpu = time.monotonic() - began, time.process_time() - cpu
    await pool.close()
    return {
        "ended": floor.ended,
        "failed": floor.failed,
        "wall_seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.delivery_floor",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--platform-url", required=True, help="the sandbox's base URL")
    parser.add_argument("--until-idle", type=float, default=3.0)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(main_async(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
