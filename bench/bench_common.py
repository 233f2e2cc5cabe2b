"""What every benchmark shares: sizes, figures, the tenant, timing, and direct access to PostgreSQL.

The processes (embedded PostgreSQL and Redis, sandbox, `crier api`, workers) come from
`bench.harness.Stack`; this module only adds what the benchmarks need on top of it. Everything talks
to 127.0.0.1 (the API and sandbox ports) or to PostgreSQL's Unix socket, nothing else.
"""

from __future__ import annotations

import asyncio
import math
import re
import signal
import statistics
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.harness import Proc, Stack, StackSettings
from crier.core.vocabulary import TERMINAL_STATUSES
from crier.tenancy.auth import SCOPES

TERMINAL = [str(status) for status in TERMINAL_STATUSES]  # as asyncpg binds a text[]
BENCH_APPLICATION = "crier-bench"  # application_name of the benchmarks' own PostgreSQL connection
API_APPLICATION = "crier"  # what crier.core.db names the API's and the workers' connections


# ------------------------------------------------------------------------------------------------
# sizes
# ------------------------------------------------------------------------------------------------
@dataclass
class Scale:
    """How big each benchmark runs. `full()` is `make bench`; `tiny()` is the smoke test (seconds)."""

    reps: int = 40  # timed repetitions of each request kind (after `warmup` untimed ones)
    warmup: int = 5
    batch_targets: int = 50
    statement_samples: int = 3  # requests whose SQL statements are counted, per size
    history_rows: int = 50_000
    history_deep_share: float = 0.9  # the deep page starts this far into the history
    delivery_posts: int = 300
    delivery_warmup_posts: int = 40
    punctual_posts: int = 50
    punctual_lead_seconds: float = 5.0
    replay_reps: int = 30
    publish_seconds: float = 10.0  # each wrk run (floor and Crier, 50 targets and 1)
    publish_warmup_seconds: float = 2.0
    history_scale_rows: tuple[int, int] = (10_000, 1_000_000)  # the small and the large project
    history_scale_matches: int = 150  # rows each rare filter value matches, in either project
    history_scale_reps: int = 60  # a page costs ~0.2 ms in PostgreSQL: many samples against HTTP jitter
    budget_seconds: float = 240.0  # each benchmark stops by itself after this long (and says so)

    @classmethod
    def full(cls) -> Scale:
        return cls()

    @classmethod
    def tiny(cls) -> Scale:
        return cls(
            reps=4,
            warmup=1,
            batch_targets=10,
            statement_samples=1,
            history_rows=2_000,
            delivery_posts=20,
            delivery_warmup_posts=4,
            punctual_posts=6,
            punctual_lead_seconds=2.0,
            replay_reps=4,
            publish_seconds=2.0,
            publish_warmup_seconds=1.0,
            history_scale_rows=(2_000, 20_000),
            history_scale_reps=4,
            budget_seconds=120.0,
        )


def stack_settings() -> StackSettings:
    """Production-like delivery knobs (sweep 1 s, generous lease), a fast sandbox, quiet logs."""
    return StackSettings(
        lease_seconds=30.0,
        sweep_interval_seconds=1.0,
        max_processing_seconds=120.0,
        platform_timeout_seconds=10.0,
        worker_concurrency=20,
        processing_seconds=0.05,
        log_level="WARNING",
        extra_env=dict(UNPACED),
    )


# TikTok's per-token rates (6 inits a minute) would make a benchmark of a few accounts measure the
# platform's limit, and the floors do not pace: Crier keeps its pacing bookkeeping (every slot is still
# taken in PostgreSQL) with a 1 ms window, so both sides make the same platform calls as fast as they can.
UNPACED = {"CRIER_TIKTOK_RATE_WINDOW_SECONDS": "0.001", "CRIER_PACING_MARGIN_SECONDS": "0"}


# ------------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------------
@dataclass
class Figure:
    """One measured figure, with the baseline it is read against (measured in the same run)."""

    name: str
    value: float
    unit: str
    baseline_name: str
    baseline: float
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline == 0 or any(math.isnan(x) for x in (self.value, self.baseline)):
            return None
        return self.value / self.baseline

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = None if self.ratio is None else round(self.ratio, 4)
        for key in ("value", "baseline"):
            data[key] = None if math.isnan(data[key]) else round(data[key], 4)
        return data


@dataclass
class BenchResult:
    name: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    def add(self, *args: Any, **kwargs: Any) -> Figure:
        figure = Figure(*args, **kwargs)
        self.figures.append(figure)
        return figure

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "seconds": round(self.seconds, 2),
            "error": self.error,
            "figures": [figure.as_dict() for figure in self.figures],
            "details": self.details,
        }


class OutOfTime(RuntimeError):
    """A benchmark ran past its budget; it stops instead of hanging."""


class Deadline:
    def __init__(self, seconds: float, what: str) -> None:
        self.what = what
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return self.at - time.monotonic()

    def check(self, doing: str = "") -> None:
        if time.monotonic() > self.at:
            raise OutOfTime(f"{self.what}: out of time{' while ' + doing if doing else ''}")


# ------------------------------------------------------------------------------------------------
# statistics
# ------------------------------------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float:
    """Linear-interpolated percentile (share in 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def summary_ms(samples: list[float]) -> dict[str, float]:
    """Seconds in, milliseconds out: the spread that goes into the JSON next to each median."""
    ms = [s * 1000 for s in samples]
    return {
        "n": len(ms),
        "median_ms": round(median(ms), 3),
        "p10_ms": round(percentile(ms, 0.1), 3),
        "p90_ms": round(percentile(ms, 0.9), 3),
        "min_ms": round(min(ms), 3) if ms else math.nan,
        "max_ms": round(max(ms), 3) if ms else math.nan,
    }


# ------------------------------------------------------------------------------------------------
# the tenant, built through the operator API as an operator would (see tests/support/factories.py)
# ------------------------------------------------------------------------------------------------
@dataclass
class Tenant:
    organization_id: str
    project_id: str
    headers: dict[str, str]
    tiktok_ids: list[str]
    container_id: str  # a completed video container in the project


class ApiError(RuntimeError):
    pass


def expect(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    if response.status_code not in statuses:
        raise ApiError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:500]}"
        )
    return response.json()


async def build_tenant(
    stack: Stack, http: httpx.AsyncClient, *, tiktok_accounts: int = 10, label: str = "bench"
) -> Tenant:
    """An organization, a full-scope key, a project without approval, TikTok accounts, one video."""
    admin = {"Authorization": f"Bearer {stack.admin_token}"}
    token = uuid.uuid4().hex[:8]

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        return expect(await http.post(f"/admin/v1{path}", json=body, headers=admin), 200, 201)

    org = await post("/organizations", {"name": f"Bench {label} {token}"})
    project = await post(
        f"/organizations/{org['id']}/projects", {"name": f"{label} {token}", "requiresApproval": False}
    )
    key = await post(f"/organizations/{org['id']}/api-keys", {"name": label, "scopes": list(SCOPES)})
    return await _finish_tenant(
        http,
        post,
        org["id"],
        project["id"],
        {"Authorization": f"Bearer {key['key']}"},
        tiktok_accounts,
        token,
    )


async def add_project(
    stack: Stack, http: httpx.AsyncClient, tenant: Tenant, *, tiktok_accounts: int = 1, label: str = "history"
) -> Tenant:
    """Another project of the same organization (same key), with its own accounts and container."""
    admin = {"Authorization": f"Bearer {stack.admin_token}"}
    token = uuid.uuid4().hex[:8]

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        return expect(await http.post(f"/admin/v1{path}", json=body, headers=admin), 200, 201)

    project = await post(
        f"/organizations/{tenant.organization_id}/projects",
        {"name": f"{label} {token}", "requiresApproval": False},
    )
    return await _finish_tenant(
        http, post, tenant.organization_id, project["id"], tenant.headers, tiktok_accounts, token
    )


async def _finish_tenant(
    http: httpx.AsyncClient,
    post: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]],
    organization_id: str,
    project_id: str,
    headers: dict[str, str],
    tiktok_accounts: int,
    token: str,
) -> Tenant:
    tiktok_ids = []
    for i in range(tiktok_accounts):
        account = await post(
            f"/projects/{project_id}/social-accounts",
            {
                "platform": "tiktok",
                "handle": f"bench_{token}_{i}",
                "externalAccountId": f"tt-bench-{token}-{i}",
                "accessToken": f"act.bench-{token}-{i}",
                "refreshToken": f"rft.bench-{token}-{i}",
                "grantedScopes": ["video.publish", "video.upload"],
            },
        )
        tiktok_ids.append(account["id"])
    container = await create_container(http, headers, project_id)
    return Tenant(organization_id, project_id, headers, tiktok_ids, container)


async def create_container(
    http: httpx.AsyncClient, headers: dict[str, str], project_id: str, caption: str = "Benchmark video #crier"
) -> str:
    body = {
        "projectId": project_id,
        "mediaType": "video",
        "media": [{"url": f"https://cdn.example.com/bench/{uuid.uuid4().hex}.mp4"}],
        "caption": caption,
    }
    return expect(await http.post("/v1/content", json=body, headers=headers), 201)["id"]


def targets(tenant: Tenant, count: int, *, tag: str = "bench") -> list[dict[str, Any]]:
    """`count` TikTok publish targets spread over the tenant's accounts, each with its own caption."""
    return [
        {
            "socialAccountId": tenant.tiktok_ids[i % len(tenant.tiktok_ids)],
            "mode": "publish",
            "captionOverride": f"{tag} target {i} #crier",
        }
        for i in range(count)
    ]


# ------------------------------------------------------------------------------------------------
# the run context
# ------------------------------------------------------------------------------------------------
class Context:
    """What a benchmark gets: the stack, its size, an HTTP client on the API, a PostgreSQL connection."""

    def __init__(self, stack: Stack, scale: Scale, log: Callable[[str], None] = print) -> None:
        self.stack = stack
        self.scale = scale
        self.log = log
        self.http: httpx.AsyncClient | None = None
        self.db: asyncpg.Connection | None = None
        self._tenant: Tenant | None = None

    async def __aenter__(self) -> Context:
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        self.http = httpx.AsyncClient(
            base_url=self.stack.api_url, timeout=httpx.Timeout(60, connect=5), limits=limits
        )
        self.db = await asyncpg.connect(
            self.stack.database_url,
            server_settings={"application_name": BENCH_APPLICATION, "timezone": "UTC"},
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.http is not None:
            await self.http.aclose()
        if self.db is not None:
            await self.db.close()

    async def tenant(self) -> Tenant:
        if self._tenant is None:
            self._tenant = await build_tenant(self.stack, self.http)
        return self._tenant

    async def timed(self, method: str, path: str, **kwargs: Any) -> tuple[float, httpx.Response]:
        began = time.perf_counter()
        response = await self.http.request(method, path, **kwargs)
        return time.perf_counter() - began, response

    async def park_undelivered(self) -> int:
        """Cancel (in SQL) every post still waiting: what one benchmark wrote must not load the next."""
        result = await self.db.execute(
            "UPDATE scheduled_posts SET status = 'canceled', canceled_at = now(), due_at = NULL, updated_at = now() "
            "WHERE status IN ('scheduled', 'blocked_on_approval')"
        )
        return int(result.split()[-1])

    # --- workers ---------------------------------------------------------------------------------
    async def start_worker(self, deadline: Deadline) -> Proc:
        """Spawn a worker and wait until its delivery loop has reached PostgreSQL.

        The sign: a new Crier connection (its first sweep's), opened while nothing else of Crier is
        busy; the API's pool does not grow while the benchmark sends nothing.
        """
        since = await self.db.fetchval("SELECT clock_timestamp()")
        proc = self.stack.spawn_worker()
        deadline = Deadline(min(60.0, max(1.0, deadline.left())), deadline.what)
        while True:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited with {proc.popen.poll()}")
            swept = await self.db.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_start >= $1 AND application_name = $2 AND xact_start IS NULL",
                since,
                API_APPLICATION,
            )
            if swept:
                return proc
            deadline.check(f"waiting for {proc.name} to start")
            await asyncio.sleep(0.1)

    async def stop_workers(self) -> None:
        """SIGTERM every worker (idle by now), SIGKILL what does not stop within 10 s."""
        workers = list(self.stack.workers)
        for proc in workers:
            proc.signal_group(signal.SIGTERM)
        for proc in workers:
            try:
                await asyncio.to_thread(proc.popen.wait, 10)
            except subprocess.TimeoutExpired:
                self.stack.kill_worker(proc)
            if proc in self.stack.workers:
                self.stack.workers.remove(proc)

    async def wait_terminal(self, ids: list[str], deadline: Deadline, *, poll: float = 0.05) -> float:
        """Wait until every post is terminal; returns the monotonic time it was first seen so."""
        while True:
            done = await self.db.fetchval(
                "SELECT count(*) FROM scheduled_posts WHERE id = ANY($1::text[]) AND status = ANY($2::text[])",
                ids,
                TERMINAL,
            )
            if done >= len(ids):
                return time.monotonic()
            deadline.check(f"waiting for {len(ids) - done} of {len(ids)} posts to end")
            await asyncio.sleep(poll)

    async def statuses(self, ids: list[str]) -> dict[str, int]:
        rows = await self.db.fetch(
            "SELECT status, count(*) AS n FROM scheduled_posts WHERE id = ANY($1::text[]) GROUP BY status",
            ids,
        )
        return {row["status"]: row["n"] for row in rows}


# ------------------------------------------------------------------------------------------------
# counting the SQL statements a request sends (log_statement, read back from the server log)
# ------------------------------------------------------------------------------------------------
_STATEMENT = re.compile(r"app=(?P<app>\S*) LOG:  (?:statement|execute [^:]*): (?P<sql>.*)")


class StatementLog:
    """Turns on `log_statement = all` for the whole server (ALTER SYSTEM + reload) and counts lines.

    pg_stat_statements needs a restart with shared_preload_libraries; the server log needs nothing.
    Each count covers the statements the API's connections (application_name `crier`) sent between
    `mark()` and `count()`; run it with no worker started, or the workers' sweeps are counted too.
    """

    PREFIX = "%m [%p] app=%a "

    def __init__(self, context: Context) -> None:
        self.context = context
        server = context.stack.postgres._server
        self.path = Path(getattr(server, "log", context.stack.postgres.data_dir / "log"))
        self._offset = 0
        self.last: list[str] = []  # the statements of the last count(), each cut to 100 characters

    async def __aenter__(self) -> StatementLog:
        db = self.context.db
        await db.execute("ALTER SYSTEM SET log_statement = 'all'")
        await db.execute(f"ALTER SYSTEM SET log_line_prefix = '{self.PREFIX}'")
        await db.execute("SELECT pg_reload_conf()")
        await asyncio.sleep(0.5)  # every backend applies the reload at its next command
        return self

    async def __aexit__(self, *_: object) -> None:
        db = self.context.db
        await db.execute("ALTER SYSTEM RESET log_statement")
        await db.execute("ALTER SYSTEM RESET log_line_prefix")
        await db.execute("SELECT pg_reload_conf()")

    def mark(self) -> None:
        self._offset = self.path.stat().st_size if self.path.exists() else 0

    async def count(self) -> dict[str, int]:
        """Statements since mark(), by first keyword (BEGIN, SELECT, INSERT, ...), plus `total`."""
        await asyncio.sleep(0.3)  # the backends write their log lines as they go; let the last land
        with open(self.path, "rb") as log:
            log.seek(self._offset)
            text = log.read().decode(errors="replace")
        # One entry per log message: a line with the prefix, then its tab-indented continuation lines.
        entries: list[str] = []
        for line in text.splitlines():
            if line.startswith("\t") and entries:
                entries[-1] += " " + line
            else:
                entries.append(line)
        counts: dict[str, int] = {"total": 0}
        self.last = []
        for entry in entries:
            match = _STATEMENT.search(entry)
            if match is None or match["app"] != API_APPLICATION:
                continue
            sql = " ".join(match["sql"].split())
            word = (sql.split() or ["?"])[0].upper().rstrip(";")
            counts[word] = counts.get(word, 0) + 1
            counts["total"] += 1
            self.last.append(sql[:100])
        return counts
