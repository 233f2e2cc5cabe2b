"""Fault-injection suite: publish and schedule under SIGKILLs, Redis and PostgreSQL outages, then audit.

    python -m bench.chaos [--posts N] [--workers K] [--seed S]      (make chaos; CHAOS_POSTS sizes it)

What it does (all on 127.0.0.1, see bench/harness.py for the processes):
 1. an embedded PostgreSQL and Redis in a temporary folder, the migrations, the platform sandbox, the
    API and K workers as subprocesses;
 2. tenants through the operator API: two organizations (one with a verified operator phone), TikTok,
    Instagram and managed-layer accounts, a music catalog;
 3. at least N posts through `/publish` and `/schedule` (modes publish, draft, managed; video, image,
    multi), each target with a partner-chosen `scheduledPostId` and a `captionOverride` carrying it, every
    call with an Idempotency-Key and retried with the SAME key on 503 / connection errors; a few
    scheduled posts are canceled;
 4. meanwhile: SIGKILL a random worker every few seconds (and start a replacement); every other kill
    (sometimes of every worker at once) lands while the answers to irreversible calls (TikTok init,
    media_publish, Twilio, dispatch) are held back by the proxy between the workers and the sandbox:
    the platform has acted, the journal only has the intent marker, i.e. between the platform's
    acceptance and the database commit; sandbox faults that act and then answer an error or too late;
    Redis stopped and restarted (the API must keep accepting, delivery must catch up within seconds);
    PostgreSQL stopped (immediate, then fast) and restarted (the API must answer 503 UNAVAILABLE in the
    envelope quickly, and the same API and workers must recover by themselves); a few requests are sent
    twice with the same Idempotency-Key (the replay must be byte-identical);
 5. then, with workers running, waits until every post is terminal and checks from the sandbox's own
    records: no post created twice on a platform, every `published`/`draft` post exists there (with
    the externalId Crier stored), no canceled post delivered, nothing accepted and lost.

Exit code 0 only when every check passed. Figures: accepted, published, draft, failed (by code),
canceled, duplicates, lost, published-missing-on-platform, kills, outages, elapsed seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import chaos_webhooks
from bench.harness import SANDBOX_MANAGED_SECRET, Proc, Stack, StackSettings

MANAGED_TEMPLATE_ID = "af058068-ad85-4fb8-92a1-f531b40bfcbc"
SCOPES = [
    "content:read",
    "content:write",
    "content:approve",
    "publish:read",
    "publish:write",
    "accounts:read",
]
SP_PATTERN = re.compile(r"sp_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TERMINAL = frozenset({"published", "draft", "failed", "canceled"})
MUSIC = [
    {
        "id": "trk_chaos_1",
        "title": "Loop One",
        "artist": "Sandbox",
        "link": "https://www.tiktok.com/music/loop-1",
    },
    {
        "id": "trk_chaos_2",
        "title": "Loop Two",
        "artist": "Sandbox",
        "link": "https://www.tiktok.com/music/loop-2",
    },
    {
        "id": "trk_chaos_3",
        "title": "Loop Three",
        "artist": "Sandbox",
        "link": "https://www.tiktok.com/music/loop-3",
    },
]
# Faults scripted at random moments. `apply: true`: the platform acts, then the answer is an error.
FAULT_MENU: list[dict[str, Any]] = [
    {"calls": [{"endpoint": "tiktok.video_init", "status": 500, "apply": True, "times": 2}]},
    {"calls": [{"endpoint": "tiktok.content_init", "status": 502, "apply": True, "times": 1}]},
    {"calls": [{"endpoint": "tiktok.inbox_video_init", "status": 500, "apply": True, "times": 1}]},
    {
        "calls": [
            {"endpoint": "instagram.media_publish", "status": 500, "error": 2, "apply": True, "times": 2}
        ]
    },
    {"calls": [{"endpoint": "managed.dispatch_create", "status": 500, "apply": True, "times": 2}]},
    {"calls": [{"endpoint": "twilio.messages", "status": 500, "apply": True, "times": 1}]},
    # acted, answered after the platform timeout (a read timeout: outcome unknown)
    {"calls": [{"endpoint": "tiktok.video_init", "latency": 7.0, "apply": True, "times": 1}]},
    {"calls": [{"endpoint": "managed.dispatch_create", "latency": 7.0, "apply": True, "times": 1}]},
    # transient refusals and errors on reads: retried, never a failure by themselves
    {"calls": [{"endpoint": "tiktok.status_fetch", "status": 500, "times": 3}]},
    {"calls": [{"endpoint": "instagram.object_read", "status": 500, "error": 2, "times": 3}]},
    {"calls": [{"endpoint": "managed.dispatch_read", "status": 503, "times": 3}]},
    {
        "calls": [
            {"endpoint": "instagram.media_create", "status": 429, "error": 4, "times": 2, "retryAfter": 1}
        ]
    },
    {"calls": [{"endpoint": "tiktok.video_init", "status": 429, "times": 2, "retryAfter": 1}]},
    {"calls": [{"endpoint": "twilio.messages", "status": 429, "times": 1, "retryAfter": 1}]},
    # terminal platform failures
    {"tiktokFail": {"times": 1, "reason": "file_format_check_failed"}},
    {"managedFail": {"times": 1, "code": "provider_rejected"}},
]


# Reconciliation and pacing, shrunk to the run's scale. The reconcile window must exceed the longest
# time the sandbox may take to act on a request after it was sent (the 7 s latency faults above): only
# then does "nothing on the platform" prove absence.
TIKTOK_RATE_WINDOW_SECONDS = 2.0
LIMITS_ENV = {
    "CRIER_RECONCILE_WINDOW_SECONDS": "20",
    "CRIER_RECONCILE_MAX_SECONDS": "60",
    "CRIER_TIKTOK_RATE_WINDOW_SECONDS": str(TIKTOK_RATE_WINDOW_SECONDS),
    # wide enough for a loaded machine: creator_info's round trip sits between the init slot and the call
    "CRIER_PACING_MARGIN_SECONDS": "1.0",
    "CRIER_PACING_INLINE_WAIT_SECONDS": "0.5",
}


# ------------------------------------------------------------------------------------------------
# configuration and results
# ------------------------------------------------------------------------------------------------
@dataclass
class ChaosConfig:
    posts: int = 1000
    workers: int = 3
    seed: int | None = None
    redis_outages: int = 2
    pg_outages: int = 2
    kill_every: tuple[float, float] = (2.0, 5.0)  # seconds between SIGKILLs
    window_seconds: float | None = None  # posts are issued over this long (default: from the size)
    tail_seconds: float = 8.0  # chaos goes on this long after the last post was issued
    outage_seconds: float = 4.0
    settle_timeout: float = 150.0  # after the chaos, every post must be terminal within this
    publish_concurrency: int = 8
    cancel_share: float = 0.03  # of scheduled targets
    resend_share: float = 0.05  # of accepted batches, sent again with the same Idempotency-Key
    faults_every: tuple[float, float] = (3.0, 7.0)
    unavailable_within: float = 5.0  # the API must answer 503 while PostgreSQL is down within this
    recover_within: float = 30.0  # API answers again / workers deliver again after PostgreSQL returns
    catch_up_within: float = 30.0  # posts accepted while Redis was down are terminal this soon after
    keep_folder: bool = False
    verbose: bool = True
    stack: StackSettings = field(default_factory=lambda: StackSettings(extra_env=dict(LIMITS_ENV)))
    # Quota pressure: the sandbox enforces TikTok's per-token rates over this window (Crier paces for it).
    tiktok_rate_window_seconds: float = TIKTOK_RATE_WINDOW_SECONDS
    quota_burst: int = 16  # posts published at once to one TikTok account: most must wait (deferred)

    def window(self) -> float:
        if self.window_seconds is not None:
            return self.window_seconds
        return min(300.0, max(25.0, self.posts / 15))


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class ChaosReport:
    seed: int
    requested: int
    accepted: int = 0
    posts_in_db: int = 0
    unconfirmed_in_db: int = 0
    statuses: Counter = field(default_factory=Counter)
    failed_by_code: Counter = field(default_factory=Counter)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    published_missing: list[str] = field(default_factory=list)
    draft_missing: list[str] = field(default_factory=list)
    external_id_mismatch: list[str] = field(default_factory=list)
    canceled_delivered: list[str] = field(default_factory=list)
    cancel_not_honoured: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    failed_on_platform: Counter = field(default_factory=Counter)
    published_without_external_id: int = 0
    reconciled: Counter = field(default_factory=Counter)  # found / absent / unknown, by the post's last round
    unknown_why: Counter = field(default_factory=Counter)  # why the platform could not tell
    deferred: int = 0  # posts that waited `scheduled` for a platform limit at least once
    deferred_resumed: int = 0  # of those, delivered (published or draft) afterwards
    deferred_canceled: int = 0  # of those, canceled by the partner while they waited
    tiktok_rate_limited: int = 0  # 429s the sandbox answered for TikTok's per-token rates
    refused: Counter = field(default_factory=Counter)
    api_answers: Counter = field(default_factory=Counter)
    api_5xx_other: list[str] = field(default_factory=list)
    transport_errors: Counter = field(default_factory=Counter)
    replays: int = 0
    resends: int = 0
    resend_mismatches: list[str] = field(default_factory=list)
    id_mismatches: list[str] = field(default_factory=list)  # 200 answers whose ids are not the targets'
    cancels: Counter = field(default_factory=Counter)
    kills: int = 0
    window_kills: int = 0
    answers_held: int = 0
    answers_lost: int = 0
    faults_injected: int = 0
    workers_started: int = 0
    worker_crashes: list[str] = field(default_factory=list)
    redis_outages: int = 0
    pg_outages: int = 0
    checks: list[Check] = field(default_factory=list)
    sandbox_calls: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    settle_seconds: float | None = None

    @property
    def problems(self) -> list[str]:
        found = []
        if self.accepted < self.requested:
            found.append(f"only {self.accepted} of {self.requested} posts were accepted")
        for name in (
            "duplicates",
            "lost",
            "published_missing",
            "draft_missing",
            "external_id_mismatch",
            "canceled_delivered",
            "cancel_not_honoured",
            "orphans",
            "api_5xx_other",
            "worker_crashes",
            "resend_mismatches",
            "id_mismatches",
        ):
            items = getattr(self, name)
            if items:
                found.append(f"{name.replace('_', '-')}: {len(items)} (e.g. {items[:3]})")
        if self.tiktok_rate_limited:
            found.append(
                f"tiktok-rate-limited: {self.tiktok_rate_limited} platform 429s (pacing should prevent them)"
            )
        found += [f"check failed: {check.name}: {check.detail}" for check in self.checks if not check.ok]
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        status = self.statuses.get
        failed = ", ".join(f"{code}={n}" for code, n in self.failed_by_code.most_common()) or "-"
        settled = "never" if self.settle_seconds is None else f"{self.settle_seconds} s after the chaos"
        calls = ", ".join(f"{name}={n}" for name, n in sorted(self.sandbox_calls.items()))
        lines = [
            "",
            "=" * 100,
            f"chaos summary (seed {self.seed}, {self.elapsed:.1f} s)",
            f"  accepted   {self.accepted} (requested {self.requested}; rows in PostgreSQL "
            f"{self.posts_in_db}, of which accepted without a 200 seen: {self.unconfirmed_in_db})",
            f"  published  {status('published', 0)}",
            f"  draft      {status('draft', 0)}",
            f"  failed     {status('failed', 0)}  by code: {failed}",
            f"  canceled   {status('canceled', 0)}  (cancel answers: {dict(self.cancels)})",
            f"  duplicates {len(self.duplicates)}",
            f"  lost       {len(self.lost)}",
            f"  published-missing-on-platform {len(self.published_missing)}   "
            f"draft-missing {len(self.draft_missing)}   "
            f"externalId-mismatch {len(self.external_id_mismatch)}   "
            f"canceled-but-delivered {len(self.canceled_delivered)}   orphans {len(self.orphans)}",
            f"  failed but on the platform (expected for OUTCOME_UNKNOWN): "
            f"{dict(self.failed_on_platform) or 0}   published without externalId: "
            f"{self.published_without_external_id}",
            f"  reconciled unknown outcomes: found {self.reconciled.get('found', 0)}, proven absent and "
            f"sent once more {self.reconciled.get('absent', 0)}, still unknown {self.reconciled.get('unknown', 0)} "
            f"{dict(self.unknown_why) or ''}",
            f"  quota      posts deferred {self.deferred}, resumed and delivered {self.deferred_resumed}, "
            f"canceled while waiting {self.deferred_canceled}; "
            f"TikTok 429s for per-token rates {self.tiktok_rate_limited}",
            f"  kills      {self.kills} (in the ambiguous window: {self.window_kills}; workers started "
            f"{self.workers_started}; crashed on their own: {len(self.worker_crashes)})",
            f"  ambiguous  platform answers held back {self.answers_held}; irreversible calls the platform "
            f"performed whose answer never reached a worker: {self.answers_lost}",
            f"  outages    redis {self.redis_outages}, postgresql {self.pg_outages}; sandbox fault scripts "
            f"{self.faults_injected}",
            f"  API        answers {dict(self.api_answers)}; idempotent replays {self.replays} (same "
            f"request sent again {self.resends} times, answered otherwise {len(self.resend_mismatches)}); "
            f"transport errors {dict(self.transport_errors) or 0}; refused targets {dict(self.refused) or 0}",
            f"  settle     every post terminal {settled}",
            f"  sandbox calls {calls}",
            "  checks:",
        ]
        lines += [f"    [{'ok' if c.ok else 'FAIL'}] {c.name}: {c.detail}" for c in self.checks]
        problems = self.problems
        lines.append("RESULT: " + ("PASS" if not problems else "FAIL"))
        lines += [f"  - {problem}" for problem in problems]
        lines.append(
            f"COUNTS accepted={self.accepted} published={status('published', 0)} "
            f"draft={status('draft', 0)} failed={status('failed', 0)} canceled={status('canceled', 0)} "
            f"duplicates={len(self.duplicates)} lost={len(self.lost)} "
            f"published_missing={len(self.published_missing)} kills={self.kills} "
            f"reconciled_found={self.reconciled.get('found', 0)} reconciled_absent={self.reconciled.get('absent', 0)} "
            f"still_unknown={self.reconciled.get('unknown', 0)} deferred={self.deferred} "
            f"deferred_resumed={self.deferred_resumed} tiktok_429={self.tiktok_rate_limited} "
            f"outages={self.redis_outages + self.pg_outages} elapsed={self.elapsed:.0f}s"
        )
        lines.append("=" * 100)
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# tenants
# ------------------------------------------------------------------------------------------------
@dataclass
class Account:
    id: str
    platform: str
    org: str
    managed: bool


@dataclass
class Org:
    name: str
    id: str
    project_id: str
    headers: dict[str, str]
    accounts: list[Account]
    verified_phone: bool


@dataclass
class Planned:
    id: str
    org: str
    account: str
    platform: str
    mode: str
    endpoint: str
    media_type: str
    probe: bool = False


async def _admin(client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.request(method, f"/admin/v1{path}", json=body)
    if response.status_code not in (200, 201):
        raise RuntimeError(f"operator API {method} {path}: {response.status_code} {response.text}")
    return response.json()


async def build_tenants(stack: Stack) -> dict[str, Org]:
    """Two organizations through the operator API, as an operator would set them up."""
    headers = {"Authorization": f"Bearer {stack.admin_token}"}
    orgs: dict[str, Org] = {}
    async with httpx.AsyncClient(base_url=stack.api_url, headers=headers, timeout=30) as client:
        await _admin(client, "PUT", "/tiktok-music", {"items": MUSIC})
        for name, phone, tiktoks, instagrams, managed in (
            ("A", True, 3, 2, ("tiktok", "instagram")),
            ("B", False, 2, 1, ("tiktok",)),
        ):
            body: dict[str, Any] = {"name": f"Chaos {name}"}
            if phone:
                body |= {"primaryOperatorPhone": "+15555550100", "primaryOperatorPhoneVerified": True}
            org = await _admin(client, "POST", "/organizations", body)
            project = await _admin(
                client,
                "POST",
                f"/organizations/{org['id']}/projects",
                {"name": f"Chaos {name}", "requiresApproval": False},
            )
            key = await _admin(
                client, "POST", f"/organizations/{org['id']}/api-keys", {"name": "chaos", "scopes": SCOPES}
            )
            layer = await _admin(
                client,
                "POST",
                f"/projects/{project['id']}/layers",
                {
                    "templateId": MANAGED_TEMPLATE_ID,
                    "config": {
                        "provider": "sandbox",
                        "baseUrl": stack.managed_base_url,
                        "signingSecret": SANDBOX_MANAGED_SECRET,
                    },
                },
            )
            accounts: list[Account] = []
            path = f"/projects/{project['id']}/social-accounts"
            for i in range(tiktoks):
                made = await _admin(
                    client,
                    "POST",
                    path,
                    {
                        "platform": "tiktok",
                        "handle": f"chaos_{name.lower()}_tt{i}",
                        "externalAccountId": f"tt-chaos-{name}-{i}",
                        "accessToken": f"act.chaos-{name}-{i}",
                        "refreshToken": f"rft.chaos-{name}-{i}",
                        # video.list lets reconciliation ask TikTok what a lost init did
                        "grantedScopes": ["video.publish", "video.upload", "video.list"],
                    },
                )
                accounts.append(Account(made["id"], "tiktok", name, False))
            for i in range(instagrams):
                made = await _admin(
                    client,
                    "POST",
                    path,
                    {
                        "platform": "instagram",
                        "handle": f"chaos_{name.lower()}_ig{i}",
                        "externalAccountId": f"178414{ord(name):03d}{i:08d}",
                        "accessToken": f"IGQ-chaos-{name}-{i}",
                        "instagramAccountType": "business",
                    },
                )
                accounts.append(Account(made["id"], "instagram", name, False))
            for i, platform in enumerate(managed):
                body = {
                    "platform": platform,
                    "handle": f"chaos_{name.lower()}_managed{i}",
                    "externalAccountId": f"managed-chaos-{name}-{i}",
                    "accessToken": f"managed-{name}-{i}",
                    "layerId": layer["id"],
                }
                if platform == "instagram":
                    body["instagramAccountType"] = "business"
                made = await _admin(client, "POST", path, body)
                accounts.append(Account(made["id"], platform, name, True))
            orgs[name] = Org(
                name, org["id"], project["id"], {"Authorization": f"Bearer {key['key']}"}, accounts, phone
            )
    return orgs


# ------------------------------------------------------------------------------------------------
# the database, read straight
# ------------------------------------------------------------------------------------------------
class Database:
    def __init__(self, url: str) -> None:
        from crier.core.db import make_engine

        self.engine = make_engine(url, pooled=False)

    async def rows(self, ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
        from sqlalchemy import text

        sql = (
            "SELECT id, status, platform, mode, external_id, last_error, updated_at, attempt, retry_count, "
            "journal ->> 'reconcile_result' AS reconcile_result, "
            "(SELECT count(*) FROM delivery_attempts a WHERE a.scheduled_post_id = scheduled_posts.id "
            "AND a.outcome = 'deferred') AS deferrals "
            "FROM scheduled_posts"
        )
        params: dict[str, Any] = {}
        if ids is not None:
            sql += " WHERE id = ANY(:ids)"
            params["ids"] = list(ids)
        async with self.engine.connect() as connection:
            result = await connection.execute(text(sql), params)
            return {row.id: dict(row._mapping) for row in result}

    async def close(self) -> None:
        await self.engine.dispose()


# ------------------------------------------------------------------------------------------------
# the run
# ------------------------------------------------------------------------------------------------
class Chaos:
    def __init__(self, config: ChaosConfig, stack: Stack, seed: int) -> None:
        self.config = config
        self.stack = stack
        self.rng = random.Random(seed)
        self.report = ChaosReport(seed=seed, requested=config.posts)
        self.planned: dict[str, Planned] = {}
        self.accepted: dict[str, float] = {}  # id -> monotonic time of the 200
        self.cancel_ok: set[str] = set()
        self.orgs: dict[str, Org] = {}
        self.started = time.monotonic()
        self.publishing_done = asyncio.Event()
        self.http: httpx.AsyncClient | None = None
        self.sandbox: httpx.AsyncClient | None = None
        self.db: Database | None = None
        self.probe_container: str | None = None
        self.batches = 0
        self.background: set[asyncio.Task] = set()

    # --- output --------------------------------------------------------------------------------
    def event(self, message: str) -> None:
        if self.config.verbose:
            print(f"[{time.monotonic() - self.started:7.1f}s] {message}", flush=True)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.report.checks.append(Check(name, ok, detail))
        self.event(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")

    # --- entry ---------------------------------------------------------------------------------
    async def run(self) -> ChaosReport:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        self.http = httpx.AsyncClient(
            base_url=self.stack.api_url, timeout=httpx.Timeout(15, connect=3), limits=limits
        )
        self.sandbox = httpx.AsyncClient(base_url=self.stack.sandbox_url, timeout=30)
        self.db = Database(self.stack.database_url)
        try:
            window = self.config.tiktok_rate_window_seconds
            (
                await self.sandbox.post("/_sandbox/config", json={"tiktokRateWindowSeconds": window})
            ).raise_for_status()
            self.orgs = await build_tenants(self.stack)
            sizes = ", ".join(f"{org.name}: {len(org.accounts)} accounts" for org in self.orgs.values())
            self.event(f"tenants ready: {sizes}")
            await chaos_webhooks.subscribe(self)  # webhooks (issue 11): subscribed before the first post
            self.probe_container = await self._create_container(self.orgs["A"], "video", "probe")
            self.report.workers_started = len(self.stack.workers)
            publisher = asyncio.create_task(self.publish_all(), name="publisher")
            chaos = asyncio.create_task(self.chaos(), name="chaos")
            await asyncio.gather(publisher, chaos)
            if self.background:
                await asyncio.gather(*self.background, return_exceptions=True)
            await self.settle()
            await self.audit()
            await chaos_webhooks.settle_and_audit(self)
        finally:
            self.report.elapsed = time.monotonic() - self.started
            self.report.answers_held = self.stack.proxy.answers_held
            self.report.answers_lost = self.stack.proxy.answers_lost
            await self.http.aclose()
            await self.sandbox.aclose()
            await self.db.close()
        return self.report

    # --- API calls with retries (same Idempotency-Key every time) -------------------------------
    async def call(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        json_body: Any = None,
        key: str | None = None,
        budget: float = 150.0,
        retry: bool = True,
    ) -> httpx.Response | None:
        deadline = time.monotonic() + budget
        attempt = 0
        sent_headers = dict(headers)
        if key is not None:
            sent_headers["Idempotency-Key"] = key
        while True:
            response: httpx.Response | None = None
            try:
                response = await self.http.request(method, path, headers=sent_headers, json=json_body)
            except httpx.TransportError as exc:
                self.report.transport_errors[type(exc).__name__] += 1
            if response is not None:
                code = _error_code(response)
                self.report.api_answers[f"{response.status_code}" + (f" {code}" if code else "")] += 1
                if response.status_code >= 500 and response.status_code != 503:
                    self.report.api_5xx_other.append(f"{method} {path} -> {response.status_code} {code}")
                if response.headers.get("idempotent-replayed") == "true":
                    self.report.replays += 1
                transient = (
                    response.status_code in (429, 500, 502, 503, 504) or code == "IDEMPOTENCY_IN_FLIGHT"
                )
                if not transient or not retry:
                    return response
            elif not retry:
                return None
            if time.monotonic() >= deadline:
                return response
            attempt += 1
            wait = min(2.0, 0.2 * 2 ** min(attempt, 4)) * (0.5 + self.rng.random())
            retry_after = response.headers.get("retry-after") if response is not None else None
            if retry_after:
                try:
                    wait = max(wait, min(float(retry_after), 5.0))
                except ValueError:
                    pass
            await asyncio.sleep(min(wait, max(0.05, deadline - time.monotonic())))

    async def _create_container(self, org: Org, media_type: str, token: str) -> str:
        body = {
            "projectId": org.project_id,
            "mediaType": media_type,
            "media": _media(media_type, token),
            "caption": f"chaos container {token}",
        }
        response = await self.call(
            "POST", "/v1/content", headers=org.headers, json_body=body, key=f"chaos-content-{uuid.uuid4()}"
        )
        if response is None or response.status_code != 201:
            raise _Refused("content", response)
        return response.json()["id"]

    # --- the load ----------------------------------------------------------------------------------
    def _plan_batch(self, size: int) -> tuple[Org, str, str, list[dict[str, Any]], list[Planned], str | None]:
        rng = self.rng
        org = self.orgs["A"] if rng.random() < 0.7 else self.orgs["B"]
        media_type = rng.choices(["video", "image", "multi"], weights=[5, 2.5, 2.5])[0]
        endpoint = "publish" if rng.random() < 0.6 else "schedule"
        options: list[tuple[Account, str]] = []
        weights: list[float] = []
        for account in org.accounts:
            if account.managed:
                options.append((account, "managed"))
                weights.append(2.0)
            elif account.platform == "tiktok":
                options += [(account, "publish"), (account, "draft")]
                weights += [3.0, 1.0]
            else:
                options += [(account, "publish"), (account, "draft")]
                weights += [3.0, 1.0 if org.verified_phone else 0.25]
        targets: list[dict[str, Any]] = []
        planned: list[Planned] = []
        draft_video_sp: str | None = None
        while len(targets) < size:
            account, mode = rng.choices(options, weights=weights)[0]
            if account.platform == "tiktok" and mode == "draft" and media_type == "video":
                # An inbox video carries no caption: the sandbox knows it by its video URL, which
                # names this post; one such target per container keeps that URL unique.
                if draft_video_sp is not None:
                    continue
            sp = f"sp_{uuid.uuid4()}"
            if account.platform == "tiktok" and mode == "draft" and media_type == "video":
                draft_video_sp = sp
            target: dict[str, Any] = {
                "socialAccountId": account.id,
                "mode": mode,
                "scheduledPostId": sp,
                "captionOverride": f"chaos {sp} b{self.batches} #crier",
            }
            if account.platform == "tiktok" and mode in ("publish", "managed"):
                if rng.random() < 0.3:
                    privacy = (
                        "FOLLOWER_OF_CREATOR"
                        if rng.random() < 0.06
                        else rng.choice(["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS"])
                    )  # FOLLOWER_OF_CREATOR: refused
                    target["tiktokPostSettings"] = {
                        "privacyLevel": privacy,
                        "disableComment": rng.random() < 0.3,
                    }
                if rng.random() < 0.25:
                    music = rng.choice(["none", "auto", "manual"])
                    target["tiktokMusic"] = (
                        {"mode": "manual", "trackId": rng.choice(MUSIC)["id"]}
                        if music == "manual"
                        else {"mode": music}
                    )
            if account.platform == "instagram" and mode == "publish":
                if media_type == "video" and rng.random() < 0.3:
                    target["shareReelToFeed"] = rng.random() < 0.5
                if rng.random() < 0.3:
                    target["firstCommentOverride"] = f"first comment of {sp}"
            targets.append(target)
            planned.append(Planned(sp, org.name, account.id, account.platform, mode, endpoint, media_type))
        return org, media_type, endpoint, targets, planned, draft_video_sp

    def _quota_burst_plan(self, size: int) -> tuple[Org, str, str, list[dict[str, Any]], list[Planned], None]:
        org = self.orgs["A"]
        account = next(a for a in org.accounts if a.platform == "tiktok" and not a.managed)
        targets, planned = [], []
        for _ in range(size):
            sp = f"sp_{uuid.uuid4()}"
            targets.append(
                {
                    "socialAccountId": account.id,
                    "mode": "publish",
                    "scheduledPostId": sp,
                    "captionOverride": f"chaos {sp} burst #crier",
                }
            )
            planned.append(Planned(sp, org.name, account.id, "tiktok", "publish", "publish", "video"))
        return org, "video", "publish", targets, planned, None

    async def publish_all(self) -> None:
        config = self.config
        window = config.window()
        started = time.monotonic()
        deadline = started + window + 240
        issued = 0
        in_flight: dict[int, int] = {}  # batch -> targets
        semaphore = asyncio.Semaphore(config.publish_concurrency)
        tasks: set[asyncio.Task] = set()
        self.event(f"publishing {config.posts} posts over ~{window:.0f} s")
        if config.quota_burst:
            # Quota pressure: more inits for one token than its per-window rate allows.
            self.batches += 1
            await self._run_batch(*self._quota_burst_plan(config.quota_burst))
            self.event(f"quota burst: {config.quota_burst} posts to one TikTok account in one publish")
        while time.monotonic() < deadline:
            confirmed = sum(1 for post_id in self.accepted if not self.planned[post_id].probe)
            outstanding = sum(in_flight.values())
            if confirmed + outstanding >= config.posts:
                if not in_flight:
                    break
                await asyncio.sleep(0.1)
                continue
            due = started + window * min(1.0, issued / max(1, config.posts))
            if time.monotonic() < due:
                await asyncio.sleep(min(0.05, due - time.monotonic()))
                continue
            size = min(self.rng.randint(1, 6), config.posts - confirmed - outstanding)
            self.batches += 1
            batch = self.batches
            plan = self._plan_batch(size)
            in_flight[batch] = size
            issued += size

            async def run(batch: int = batch, plan=plan) -> None:
                try:
                    async with semaphore:
                        await self._run_batch(*plan)
                except Exception as exc:
                    self.report.refused[f"harness {type(exc).__name__}"] += len(plan[4])
                finally:
                    in_flight.pop(batch, None)

            task = asyncio.create_task(run())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.publishing_done.set()
        self.event(f"publishing done: {len(self.accepted)} accepted in {self.batches} batches")

    async def _run_batch(
        self,
        org: Org,
        media_type: str,
        endpoint: str,
        targets: list[dict[str, Any]],
        planned: list[Planned],
        draft_video_sp: str | None,
    ) -> None:
        for post in planned:
            self.planned[post.id] = post
        try:
            container = await self._create_container(org, media_type, draft_video_sp or uuid.uuid4().hex[:12])
        except _Refused as refused:
            self.report.refused[f"content {refused.label}"] += len(targets)
            return
        body: dict[str, Any] = {"targets": targets}
        if endpoint == "schedule":
            when = datetime.now(UTC) + timedelta(seconds=self.rng.uniform(6, 16))
            body["scheduledFor"] = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        key = f"chaos-{endpoint}-{uuid.uuid4()}"
        response = await self.call(
            "POST", f"/v1/content/{container}/{endpoint}", headers=org.headers, json_body=body, key=key
        )
        if response is None or response.status_code != 200:
            self.report.refused[f"{endpoint} {_label(response)}"] += len(targets)
            return
        ids = response.json().get("scheduledPostIds")
        expected = [post.id for post in planned]
        if ids != expected:
            self.report.id_mismatches.append(f"{endpoint} answered {ids} for {expected}")
        now = time.monotonic()
        for post_id in ids or []:
            self.accepted[post_id] = now
        if self.rng.random() < self.config.resend_share:
            # A partner whose answer got lost sends the same request again: replayed, nothing new.
            again = await self.call(
                "POST", f"/v1/content/{container}/{endpoint}", headers=org.headers, json_body=body, key=key
            )
            self.report.resends += 1
            if (
                again is None
                or again.status_code != 200
                or again.content != response.content
                or again.headers.get("idempotent-replayed") != "true"
            ):
                self.report.resend_mismatches.append(f"{endpoint} {key}: {_label(again)}")
        if endpoint == "schedule":
            for post_id in expected:
                if self.rng.random() < self.config.cancel_share:
                    self._background(self._cancel(org, post_id))

    async def _cancel(self, org: Org, post_id: str) -> None:
        await asyncio.sleep(self.rng.uniform(0.2, 3.0))
        response = await self.call("DELETE", f"/v1/scheduled-posts/{post_id}", headers=org.headers, budget=30)
        label = _label(response)
        self.report.cancels[label] += 1
        if response is not None and response.status_code == 200:
            self.cancel_ok.add(post_id)

    def _background(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def probe_publish(
        self, label: str, *, retry: bool = True, budget: float = 60.0
    ) -> tuple[str, httpx.Response | None, float]:
        """One TikTok post through /publish on the probe container; it joins the audited posts."""
        org = self.orgs["A"]
        account = next(a for a in org.accounts if a.platform == "tiktok" and not a.managed)
        sp = f"sp_{uuid.uuid4()}"
        self.planned[sp] = Planned(sp, "A", account.id, "tiktok", "publish", "publish", "video", probe=True)
        body = {
            "targets": [
                {
                    "socialAccountId": account.id,
                    "mode": "publish",
                    "scheduledPostId": sp,
                    "captionOverride": f"chaos probe {label} {sp}",
                }
            ]
        }
        began = time.monotonic()
        response = await self.call(
            "POST",
            f"/v1/content/{self.probe_container}/publish",
            headers=org.headers,
            json_body=body,
            key=f"chaos-probe-{uuid.uuid4()}",
            retry=retry,
            budget=budget,
        )
        took = time.monotonic() - began
        if response is not None and response.status_code == 200:
            self.accepted[sp] = time.monotonic()
        return sp, response, took

    # --- the chaos -------------------------------------------------------------------------------
    async def chaos(self) -> None:
        config = self.config
        window = config.window()
        began = time.monotonic()
        outages: list[tuple[float, str]] = []
        # alternate Redis and PostgreSQL, spread over 15%..85% of the window
        ordered: list[str] = []
        redis_left, pg_left = config.redis_outages, config.pg_outages
        while redis_left or pg_left:
            if redis_left:
                ordered.append("redis")
                redis_left -= 1
            if pg_left:
                ordered.append("pg")
                pg_left -= 1
        for index, kind in enumerate(ordered):
            at = window * (0.15 + 0.7 * (index + 0.5) / len(ordered))
            outages.append((at, kind))
        next_kill = began + self.rng.uniform(*config.kill_every)
        next_fault = began + self.rng.uniform(*config.faults_every)
        kills = 0
        pg_count = redis_count = 0
        while True:
            now = time.monotonic()
            if self.publishing_done.is_set() and not outages and now >= began + window + config.tail_seconds:
                break
            if now - began > window + 300:  # a stuck publisher must not keep the chaos going forever
                break
            self._watch_crashes()
            if outages and now - began >= outages[0][0]:
                _, kind = outages.pop(0)
                if kind == "redis":
                    redis_count += 1
                    await self.redis_outage(redis_count)
                else:
                    pg_count += 1
                    await self.pg_outage(pg_count, "immediate" if pg_count % 2 == 1 else "fast")
                next_kill = time.monotonic() + self.rng.uniform(*config.kill_every)
                continue
            if now >= next_kill:
                kills += 1
                if kills % 2 == 1:  # every other kill lands while platform answers are held back
                    await self.window_kill(everyone=kills % 4 == 3)
                else:
                    await self.kill_one("random moment")
                next_kill = time.monotonic() + self.rng.uniform(*config.kill_every)
            if now >= next_fault:
                await self.inject_fault()
                next_fault = time.monotonic() + self.rng.uniform(*config.faults_every)
            await asyncio.sleep(0.1)
        self.stack.proxy.release()
        self.stack.ensure_workers(self.config.workers)
        self.event(
            f"chaos over: {self.report.kills} kills, {redis_count} Redis and {pg_count} PostgreSQL outages; "
            f"{len(self.stack.workers)} workers running"
        )

    def _watch_crashes(self) -> None:
        for proc in self.stack.reap_workers():
            code = proc.popen.poll()
            self.report.worker_crashes.append(f"{proc.name} exited {code}")
            self.event(f"{proc.name} exited by itself with {code}; starting a replacement")
            self._spawn_worker()

    def _spawn_worker(self) -> Proc:
        proc = self.stack.spawn_worker()
        self.report.workers_started += 1
        return proc

    async def kill_one(self, why: str, *, replace: bool = True) -> None:
        if not self.stack.workers:
            if replace:
                self._spawn_worker()
            return
        victim = self.rng.choice(self.stack.workers)
        self.stack.kill_worker(victim)
        self.report.kills += 1
        replacement = self._spawn_worker() if replace else None
        self.event(
            f"SIGKILL {victim.name} (pid {victim.pid}, {why})"
            + (f"; started {replacement.name}" if replacement else "")
        )

    async def window_kill(self, *, everyone: bool) -> None:
        """Hold the platforms' answers to irreversible calls, then SIGKILL while they are held.

        The sandbox has acted (the post exists) and the worker has only its intent marker in the
        journal: exactly the window between a platform's acceptance and the database commit.
        """
        proxy = self.stack.proxy
        hold = round(self.rng.uniform(1.0, 2.0), 2)
        held_before, lost_before = proxy.answers_held, proxy.answers_lost
        proxy.hold(hold, for_seconds=hold * 2)
        await asyncio.sleep(hold * 0.5)
        waited = time.monotonic() + hold * 1.5
        while proxy.answers_held == held_before and time.monotonic() < waited:  # something to cut off
            await asyncio.sleep(0.05)
        await asyncio.sleep(hold * 0.3)
        self.report.window_kills += 1
        why = f"holding {proxy.answers_held - held_before} platform answers {hold} s"
        if everyone:
            for _ in range(len(self.stack.workers)):
                await self.kill_one(why, replace=False)
            for _ in range(self.config.workers):
                self._spawn_worker()
            self.event(f"  ... every worker killed; started {self.config.workers} new ones")
        else:
            await self.kill_one(why)
        await asyncio.sleep(hold * 1.2)
        proxy.release()
        self.event(f"  ... {proxy.answers_lost - lost_before} platform answers never reached their worker")

    async def inject_fault(self) -> None:
        fault = self.rng.choice(FAULT_MENU)
        if await self._sandbox_faults(fault):
            self.report.faults_injected += 1
            self.event(f"sandbox fault {json.dumps(fault)}")

    async def _sandbox_faults(self, body: dict[str, Any]) -> bool:
        try:
            response = await self.sandbox.post("/_sandbox/faults", json=body)
            return response.status_code == 200
        except httpx.HTTPError as exc:
            self.event(f"sandbox fault not set: {type(exc).__name__}")
            return False

    async def wait_terminal(self, ids: list[str], timeout: float) -> float | None:
        """Seconds until every id is terminal in PostgreSQL, or None after `timeout`."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            try:
                rows = await self.db.rows(ids)
                if all(rows.get(post_id, {}).get("status") in TERMINAL for post_id in ids):
                    return time.monotonic() - began
            except Exception:
                pass
            await asyncio.sleep(0.25)
        return None

    async def redis_outage(self, number: int) -> None:
        config = self.config
        self.report.redis_outages += 1
        await asyncio.to_thread(self.stack.stop_redis)
        down_at = time.monotonic()
        self.event(f"Redis #{number} stopped")
        # A worker started while Redis is down must deliver as well.
        await self.kill_one("Redis down")
        sp, response, took = await self.probe_publish(f"redis-down-{number}", retry=False, budget=10)
        ok = response is not None and response.status_code == 200
        self.check(
            f"redis#{number}: API accepts a publish while Redis is down",
            ok,
            f"{_label(response)} in {took:.2f} s",
        )
        if not ok:  # keep the ledger whole: the same key again once things settle
            self.planned.pop(sp, None)
        during = [sp] if ok else []
        await asyncio.sleep(max(0.0, config.outage_seconds - (time.monotonic() - down_at)))
        # Posts due now (from /publish) accepted while Redis was down; scheduled ones wait for their time.
        accepted_during = {
            post_id
            for post_id, at in self.accepted.items()
            if at >= down_at and self.planned[post_id].endpoint == "publish"
        } | set(during)
        await asyncio.to_thread(self.stack.start_redis)
        back_at = time.monotonic()
        self.event(
            f"Redis #{number} back after {back_at - down_at:.1f} s; "
            f"{len(accepted_during)} posts due now were accepted meanwhile"
        )
        after, response, _ = await self.probe_publish(f"redis-back-{number}")
        if response is not None and response.status_code == 200:
            accepted_during.add(after)
        watch = sorted(accepted_during)
        done = await self.wait_terminal(watch, config.catch_up_within)  # no kills meanwhile
        seconds = None if done is None else time.monotonic() - back_at
        self.check(
            f"redis#{number}: delivery catches up after Redis returns",
            seconds is not None,
            f"{len(watch)} posts accepted during the outage or just after it terminal "
            + (
                f"{seconds:.1f} s after Redis returned"
                if seconds is not None
                else f"NOT within {config.catch_up_within:.0f} s"
            ),
        )

    async def pg_outage(self, number: int, mode: str) -> None:
        config = self.config
        self.report.pg_outages += 1
        api = self.stack.api
        api_pid = api.pid
        workers_before = list(self.stack.workers)
        known = next((post_id for post_id in self.accepted if self.planned[post_id].org == "A"), None)
        headers = self.orgs["A"].headers
        # A partner polling all along: while PostgreSQL stops, is down, recovers and is back, every
        # answer must be a 200 or the envelope's 503 UNAVAILABLE, and come quickly.
        polling_done = asyncio.Event()
        poller = asyncio.create_task(
            self._poll_through_outage(
                f"/v1/scheduled-posts/{known}" if known else "/readyz", headers, polling_done
            )
        )
        await asyncio.sleep(0.3)
        await asyncio.to_thread(self.stack.stop_postgres, mode)
        down_at = time.monotonic()
        self.event(f"PostgreSQL #{number} stopped ({mode})")
        probes: list[tuple[str, str, str, Any]] = [("GET", "/readyz", "readiness", None)]
        if known is not None:
            probes.append(("GET", f"/v1/scheduled-posts/{known}", "read a post", None))
        account = next(a for a in self.orgs["A"].accounts if a.platform == "tiktok" and not a.managed)
        sp = f"sp_{uuid.uuid4()}"
        probes.append(
            (
                "POST",
                f"/v1/content/{self.probe_container}/publish",
                "publish",
                {
                    "targets": [
                        {
                            "socialAccountId": account.id,
                            "mode": "publish",
                            "scheduledPostId": sp,
                            "captionOverride": f"chaos probe pg-down-{number} {sp}",
                        }
                    ]
                },
            )
        )
        for method, path, what, body in probes:
            began = time.monotonic()
            try:
                response = await self.http.request(
                    method,
                    path,
                    json=body,
                    timeout=config.unavailable_within + 10,
                    headers={**headers, "Idempotency-Key": f"chaos-pgdown-{uuid.uuid4()}"}
                    if method == "POST"
                    else headers,
                )
            except httpx.HTTPError as exc:
                took = time.monotonic() - began
                self.check(
                    f"pg#{number}: {what} answers 503 UNAVAILABLE while PostgreSQL is down",
                    False,
                    f"{type(exc).__name__} after {took:.2f} s",
                )
                continue
            took = time.monotonic() - began
            problem = _envelope_problem(response, 503, "UNAVAILABLE")
            if response.status_code == 200 and method == "POST":  # should not happen; audit it like the rest
                self.planned[sp] = Planned(
                    sp, "A", account.id, "tiktok", "publish", "publish", "video", probe=True
                )
                self.accepted[sp] = time.monotonic()
            ok = problem is None and took <= config.unavailable_within
            self.check(
                f"pg#{number}: {what} answers 503 UNAVAILABLE while PostgreSQL is down",
                ok,
                f"{_label(response)} in {took:.2f} s" + (f" ({problem})" if problem else ""),
            )
        await asyncio.sleep(max(0.0, config.outage_seconds - (time.monotonic() - down_at)))
        await asyncio.to_thread(self.stack.start_postgres)
        back_at = time.monotonic()
        self.event(f"PostgreSQL #{number} back after {back_at - down_at:.1f} s")
        # The same API process answers normally again, by itself.
        recovered = None
        probe_path = f"/v1/scheduled-posts/{known}" if known else "/readyz"
        last = "no answer"
        while time.monotonic() - back_at < config.recover_within:
            try:
                response = await self.http.get(probe_path, headers=headers, timeout=5)
                last = _label(response)
                if response.status_code == 200:
                    recovered = time.monotonic() - back_at
                    break
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            await asyncio.sleep(0.2)
        same = api.pid == api_pid and api.alive()
        self.check(
            f"pg#{number}: the same API process answers again after PostgreSQL returns",
            recovered is not None and same,
            (
                f"GET {probe_path.split('/')[-2]}: 200 after {recovered:.2f} s"
                if recovered is not None
                else f"no 200 within {config.recover_within:.0f} s (last: {last})"
            )
            + ("" if same else f"; API process changed or died (exit {api.popen.poll()})"),
        )
        await asyncio.sleep(0.5)
        polling_done.set()
        answers, bad, slowest = await poller
        self.check(
            f"pg#{number}: a client polling through the outage only gets 200 or 503 UNAVAILABLE, quickly",
            not bad and slowest <= config.unavailable_within,
            f"answers {dict(answers)}, slowest {slowest:.2f} s" + (f"; unexpected: {bad[:3]}" if bad else ""),
        )
        # The workers that lived through the outage deliver again without a restart (no kills meanwhile).
        after, response, _ = await self.probe_publish(f"pg-back-{number}")
        seconds = None
        if response is not None and response.status_code == 200:
            seconds = await self.wait_terminal([after], config.recover_within)
        survivors = [proc for proc in workers_before if proc.alive()]
        self.check(
            f"pg#{number}: workers recover by themselves after PostgreSQL returns",
            seconds is not None and len(survivors) == len(workers_before),
            (
                f"a new post terminal {seconds:.1f} s after it was accepted"
                if seconds is not None
                else f"publish {_label(response)}; post not terminal within {config.recover_within:.0f} s"
            )
            + f"; {len(survivors)}/{len(workers_before)} workers survived the outage",
        )

    async def _poll_through_outage(
        self, path: str, headers: dict[str, str], done: asyncio.Event
    ) -> tuple[Counter, list[str], float]:
        answers: Counter = Counter()
        bad: list[str] = []
        slowest = 0.0
        deadline = time.monotonic() + 180  # bounded even if the outage handling goes wrong
        while not done.is_set() and time.monotonic() < deadline:
            began = time.monotonic()
            try:
                response = await self.http.get(
                    path, headers=headers, timeout=self.config.unavailable_within + 5
                )
                label = _label(response)
                if (
                    response.status_code != 200
                    and _envelope_problem(response, 503, "UNAVAILABLE") is not None
                ):
                    bad.append(label)
                    if response.status_code >= 500 and response.status_code != 503:
                        self.report.api_5xx_other.append(f"GET {path} -> {label}")
            except httpx.HTTPError as exc:
                label = type(exc).__name__
                bad.append(label)
            answers[label] += 1
            slowest = max(slowest, time.monotonic() - began)
            await asyncio.sleep(0.05)
        return answers, bad, slowest

    # --- the end -----------------------------------------------------------------------------------
    async def settle(self) -> None:
        began = time.monotonic()
        self.event(f"waiting (≤ {self.config.settle_timeout:.0f} s) for every post to be terminal")
        last_report = 0.0
        while time.monotonic() - began < self.config.settle_timeout:
            self._watch_crashes()
            try:
                rows = await self.db.rows()
            except Exception as exc:
                self.event(f"database read failed: {type(exc).__name__}")
                await asyncio.sleep(1)
                continue
            pending = [
                post_id for post_id in self.accepted if rows.get(post_id, {}).get("status") not in TERMINAL
            ]
            pending += [
                post_id
                for post_id, row in rows.items()
                if post_id not in self.accepted and row["status"] not in TERMINAL
            ]
            if not pending:
                self.report.settle_seconds = round(time.monotonic() - began, 1)
                return
            if time.monotonic() - last_report > 10:
                statuses = Counter(rows.get(p, {}).get("status", "absent") for p in pending)
                self.event(f"  {len(pending)} posts not terminal yet: {dict(statuses)}")
                last_report = time.monotonic()
            await asyncio.sleep(1)

    async def audit(self) -> None:
        rows = await self.db.rows()
        records = (await self.sandbox.get("/_sandbox/records")).json()
        audit_records(
            self.report, rows=rows, records=records, accepted=set(self.accepted), cancel_ok=self.cancel_ok
        )


def audit_records(
    report: ChaosReport,
    *,
    rows: dict[str, dict[str, Any]],
    records: dict[str, Any],
    accepted: set[str],
    cancel_ok: set[str],
) -> None:
    """Fill `report` from PostgreSQL's rows and the sandbox's records (GET /_sandbox/records).

    Every post is known on the platforms by its id, which its caption carries (an inbox video, which
    has no caption, by its video URL; a dispatch by its Idempotency-Key).
    """
    report.sandbox_calls = records.get("calls", {})
    report.tiktok_rate_limited = int(records.get("tiktok", {}).get("rateLimited", 0))
    report.accepted = len(accepted)
    report.posts_in_db = len(rows)
    report.unconfirmed_in_db = sum(1 for post_id in rows if post_id not in accepted)

    # How many times each post was created on each platform, by the sandbox's own count.
    created: dict[str, Counter] = defaultdict(Counter)
    for family, counts in records.get("createdPerCaption", {}).items():
        for caption, count in counts.items():
            ids = set(SP_PATTERN.findall(caption))
            if not ids and count > 1:
                report.duplicates.append({"platform": family, "caption": caption, "count": count})
            for post_id in ids:
                created[post_id][family] += count
    for post_id, families in created.items():
        for family, count in families.items():
            if count > 1:
                report.duplicates.append({"platform": family, "postId": post_id, "count": count})

    tiktok_posts: dict[str, list[str]] = defaultdict(list)
    for post in records["tiktok"]["posts"]:
        for post_id in SP_PATTERN.findall(str(post.get("caption") or "")):
            tiktok_posts[post_id].append(str(post["post_id"]))
    tiktok_drafts: dict[str, list[str]] = defaultdict(list)
    for publish in records["tiktok"]["publishes"]:
        if publish.get("kind") in ("inbox_video", "photo_draft") and publish.get("status") != "FAILED":
            source = (publish.get("request") or {}).get("source_info") or {}
            text = f"{publish.get('caption') or ''} {source.get('video_url') or ''}"
            for post_id in SP_PATTERN.findall(text):
                tiktok_drafts[post_id].append(str(publish["publish_id"]))
    instagram_media: dict[str, list[str]] = defaultdict(list)
    for media in records["instagram"]["media"]:
        for post_id in SP_PATTERN.findall(str(media.get("caption") or "")):
            instagram_media[post_id].append(str(media["id"]))
    messages: dict[str, list[str]] = defaultdict(list)
    for message in records["twilio"]["messages"]:
        for post_id in SP_PATTERN.findall(str(message.get("body") or "")):
            messages[post_id].append(str(message["sid"]))
    dispatches = {d["idempotencyKey"]: d for d in records["managed"]["dispatches"]}

    for post_id in accepted:
        row = rows.get(post_id)
        if row is None or row["status"] not in TERMINAL:
            report.lost.append(post_id)
    for post_id, row in rows.items():
        if post_id not in accepted and row["status"] not in TERMINAL:
            report.lost.append(post_id)
        report.statuses[row["status"]] += 1
        status, mode, platform, external = row["status"], row["mode"], row["platform"], row["external_id"]
        if row.get("reconcile_result"):
            report.reconciled[row["reconcile_result"]] += 1
            message = str((row["last_error"] or {}).get("message") or "")
            if row["reconcile_result"] == "unknown" and "(" in message:
                report.unknown_why[message.rsplit("(", 1)[1].rstrip(".)")] += 1
        if row.get("deferrals"):
            report.deferred += 1
            report.deferred_resumed += status in ("published", "draft")
            report.deferred_canceled += status == "canceled"
        delivered = sum(created.get(post_id, Counter()).values()) > 0 or post_id in dispatches
        if status == "failed":
            code = (row["last_error"] or {}).get("code", "?")
            report.failed_by_code[code] += 1
            if delivered:
                report.failed_on_platform[code] += 1
        elif status == "canceled":
            if delivered:
                report.canceled_delivered.append(post_id)
        elif status == "published":
            if external is None:
                report.published_without_external_id += 1
            if mode == "managed":
                dispatch = dispatches.get(post_id)
                found = (
                    [str(dispatch.get("externalId"))]
                    if dispatch and dispatch["status"] == "published"
                    else []
                )
            elif platform == "tiktok":
                found = tiktok_posts.get(post_id, [])
            else:
                found = instagram_media.get(post_id, [])
            if not found:
                report.published_missing.append(post_id)
            elif external is not None and external not in found:
                report.external_id_mismatch.append(f"{post_id}: {external} not in {found}")
        elif status == "draft":
            found = tiktok_drafts.get(post_id, []) if platform == "tiktok" else messages.get(post_id, [])
            if mode != "draft" or not found:
                report.draft_missing.append(post_id)
            elif external is not None and external not in found:
                report.external_id_mismatch.append(f"{post_id}: {external} not in {found}")
    for post_id in cancel_ok:
        if rows.get(post_id, {}).get("status") != "canceled":
            report.cancel_not_honoured.append(f"{post_id}: {rows.get(post_id, {}).get('status')}")
    known = set(rows)
    report.orphans = sorted((set(created) | {key for key in dispatches if key.startswith("sp_")}) - known)


class _Refused(Exception):
    def __init__(self, what: str, response: httpx.Response | None) -> None:
        super().__init__(what)
        self.label = _label(response)


def _error_code(response: httpx.Response) -> str | None:
    if response.status_code < 400:
        return None
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def _label(response: httpx.Response | None) -> str:
    if response is None:
        return "no answer"
    code = _error_code(response)
    return f"{response.status_code}" + (f" {code}" if code else "")


def _envelope_problem(response: httpx.Response, status: int, code: str) -> str | None:
    if response.status_code != status:
        return f"status {response.status_code}, wanted {status}"
    try:
        body = response.json()
    except ValueError:
        return "body is not JSON"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(body) != {"error"}:
        return "not the error envelope"
    if set(error) != {"code", "message", "requestId", "details"}:
        return f"envelope fields {sorted(error)}"
    if error["code"] != code:
        return f"code {error['code']}, wanted {code}"
    if error["requestId"] != response.headers.get("x-request-id"):
        return "requestId differs from X-Request-Id"
    return None


def _media(media_type: str, token: str) -> list[dict[str, str]]:
    base = f"https://cdn.example.com/chaos/{token}"
    if media_type == "video":
        return [{"url": f"{base}.mp4"}]
    if media_type == "image":
        return [{"url": f"{base}.jpg"}]
    return [{"url": f"{base}-{i}.jpg"} for i in range(3)]


# ------------------------------------------------------------------------------------------------
# entry points
# ------------------------------------------------------------------------------------------------
def run_chaos(config: ChaosConfig, *, log: Callable[[str], None] = print) -> ChaosReport:
    """Start the stack, run the chaos, audit, tear everything down; the report says whether it passed."""
    seed = config.seed if config.seed is not None else random.SystemRandom().randrange(1, 2**31)
    folder = Path(tempfile.mkdtemp(prefix="crier-chaos-"))
    stack = Stack(folder, config.stack, log=log)
    report: ChaosReport | None = None
    failed, interrupted = True, False
    try:
        log(f"chaos: {config.posts} posts, {config.workers} workers, seed {seed}, folder {folder}")
        began = time.monotonic()
        stack.start(workers=config.workers)
        log(
            f"chaos: stack up in {time.monotonic() - began:.1f} s "
            f"(sandbox {stack.sandbox_url}, API {stack.api_url}, workers' proxy {stack.platforms_url})"
        )
        report = asyncio.run(Chaos(config, stack, seed).run())
        failed = not report.ok
        return report
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        stack.close()
        if failed and not interrupted:
            log(stack.log_tails())
        if config.keep_folder:
            log(f"chaos: logs and data kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--posts", type=int, default=int(os.environ.get("CHAOS_POSTS", "1000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("CHAOS_WORKERS", "3")))
    parser.add_argument(
        "--seed", type=int, default=int(os.environ["CHAOS_SEED"]) if os.environ.get("CHAOS_SEED") else None
    )
    parser.add_argument("--redis-outages", type=int, default=2)
    parser.add_argument("--pg-outages", type=int, default=2)
    parser.add_argument("--window", type=float, default=None, help="seconds over which the posts are issued")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, data)")
    parser.add_argument("--quiet", action="store_true", help="no timeline, only the summary")
    args = parser.parse_args(argv)
    if args.posts < 1 or args.workers < 1:
        parser.error("--posts and --workers must be at least 1")
    config = ChaosConfig(
        posts=args.posts,
        workers=args.workers,
        seed=args.seed,
        redis_outages=args.redis_outages,
        pg_outages=args.pg_outages,
        window_seconds=args.window,
        keep_folder=args.keep,
        verbose=not args.quiet,
    )
    signal.signal(signal.SIGTERM, _interrupt)  # same clean teardown as Ctrl-C
    try:
        report = run_chaos(config)
    except KeyboardInterrupt:
        print("chaos: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    print(report.summary(), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
