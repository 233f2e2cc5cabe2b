"""Every Prometheus metric Crier exposes, and the one-line helpers the rest of the code calls.

Counters and histograms are recorded where things happen (the API middleware, the platform HTTP
client's event hooks, the delivery runner's transitions, the webhook sender). What PostgreSQL already
knows (posts by status, the due backlog) is read from it when Prometheus scrapes (exposition.py).

`crier api --workers N` runs N processes behind one port: it points PROMETHEUS_MULTIPROC_DIR at a fresh
folder before they start, each process writes its values there, and whichever process answers a scrape
adds them all up (prometheus_client's multiprocess mode). The variable must be set before this module
is first imported, which is why `crier api` sets it and not the app.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from crier.core.vocabulary import PostStatus

# `*_created` timestamps double the series and no dashboard or alert here reads them.
disable_created_metrics()

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "<unmatched>"

# Latency buckets: API answers are milliseconds; platform calls and lateness reach tens of seconds.
API_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PLATFORM_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 60.0)
LATENESS_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)

HTTP_REQUESTS = Counter(
    "crier_http_requests_total",
    "API requests answered, by route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "crier_http_request_duration_seconds",
    "API request latency, by route template.",
    ["method", "route"],
    buckets=API_BUCKETS,
)

PLATFORM_CALLS = Counter(
    "crier_platform_calls_total",
    "HTTP calls to TikTok, Instagram, Twilio and managed providers, by step and outcome "
    "(2xx/3xx/4xx/5xx as answered, or error when no answer came).",
    ["platform", "step", "outcome"],
)
PLATFORM_DURATION = Histogram(
    "crier_platform_call_duration_seconds",
    "Platform HTTP call latency, by step.",
    ["platform", "step"],
    buckets=PLATFORM_BUCKETS,
)
TOKEN_REFRESH_FAILURES = Counter(
    "crier_token_refresh_failures_total", "Platform token refreshes that did not succeed.", ["platform"]
)

POST_TRANSITIONS = Counter(
    "crier_post_transitions_total",
    "Delivery steps ended by the worker, by where they took the post (published, draft, failed, "
    "retrying, processing).",
    ["platform", "mode", "event"],
)
POST_RETRIES = Counter(
    "crier_post_retries_total",
    "Transient delivery failures that were retried, by error code.",
    ["platform", "code"],
)
POST_FAILURES = Counter(
    "crier_post_failures_total", "Posts that ended failed, by error code.", ["platform", "code"]
)
OUTCOME_UNKNOWN = Counter(
    "crier_outcome_unknown_total",
    "Posts failed with OUTCOME_UNKNOWN: an irreversible call whose result could not be established.",
    ["platform"],
)
START_LATENESS = Histogram(
    "crier_post_start_lateness_seconds",
    "How long after its scheduled time a post's first delivery step started.",
    ["platform"],
    buckets=LATENESS_BUCKETS,
)

WEBHOOK_SENDS = Counter(
    "crier_webhook_sends_total",
    "Webhook deliveries to partner endpoints, by event type and outcome (delivered, failed, error).",
    ["event", "outcome"],
)
WEBHOOK_DURATION = Histogram(
    "crier_webhook_send_duration_seconds", "Webhook delivery latency.", ["event"], buckets=PLATFORM_BUCKETS
)

# livesum: in multiprocess mode, the sum over the processes still running.
DB_POOL_IN_USE = Gauge(
    "crier_db_pool_connections_in_use",
    "PostgreSQL connections checked out of the pool right now.",
    multiprocess_mode="livesum",
)
DB_POOL_CHECKOUTS = Counter(
    "crier_db_pool_checkouts_total", "Connections taken from the pool (one per unit of work)."
)
DB_POOL_SIZE = Gauge(
    "crier_db_pool_size",
    "Connections each process may hold (pool size plus overflow).",
    multiprocess_mode="livemax",
)


# --- the API -------------------------------------------------------------------------------------


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


# --- platform calls (httpx event hooks on the shared client) --------------------------------------

# Numbers, hex and uuids, Twilio SIDs (AC + 32 hex), Crier ids (sp_<uuid>).
_ID_SEGMENT = re.compile(
    r"^(\d+|[0-9a-fA-F-]{16,}|[A-Za-z]{2,4}[0-9A-Za-z]{20,}|[A-Za-z]+_[0-9A-Za-z-]{8,})$"
)
_VERSION_SEGMENT = re.compile(r"^v\d+(\.\d+)?$")
# Paths of the token refresh endpoints (TikTok OAuth, Instagram's refresh_access_token).
_REFRESH_STEPS = ("oauth/token", "refresh_access_token")


def platform_bases(settings: Any) -> list[tuple[str, str]]:
    """Which configured API base belongs to which platform; any other URL is a managed provider's."""
    return [
        ("tiktok", settings.tiktok_api_base),
        ("instagram", settings.instagram_api_base),
        ("instagram", settings.instagram_refresh_base),
        ("twilio", settings.twilio_api_base),
    ]


def classify_call(url: httpx.URL, bases: list[tuple[str, str]]) -> tuple[str, str]:
    """(platform, step) of a call: the step is the path below the API base with ids and versions taken
    out, a bounded label such as `{id}/media_publish` or `post/publish/status/fetch`."""
    text = str(url.copy_with(query=None, fragment=None))
    platform, path = "managed", url.path
    for name, base in bases:
        base = base.rstrip("/")
        if base and (text == base or text.startswith(base + "/")):
            platform, path = name, text[len(base) :]
            break
    segments = [segment for segment in path.split("/") if segment and not _VERSION_SEGMENT.match(segment)]
    named = ["{id}" if _ID_SEGMENT.match(segment) else segment for segment in segments]
    return platform, "/".join(named)[:80] or "/"


def platform_call_hooks(settings: Any) -> dict[str, list[Any]]:
    """httpx event hooks timing every call of the shared platform client (create_http_client)."""
    bases = platform_bases(settings)

    async def started(request: httpx.Request) -> None:
        request.extensions["crier_started"] = time.perf_counter()

    async def answered(response: httpx.Response) -> None:
        request = response.request
        started_at = request.extensions.get("crier_started", time.perf_counter())
        platform, step = classify_call(request.url, bases)
        record_platform_call(platform, step, response.status_code, time.perf_counter() - started_at)

    return {"request": [started], "response": [answered]}


def record_platform_call(platform: str, step: str, status: int | None, seconds: float) -> None:
    """One platform call; `status` None means no answer (network error or timeout)."""
    outcome = "error" if status is None else f"{status // 100}xx"
    PLATFORM_CALLS.labels(platform, step, outcome).inc()
    PLATFORM_DURATION.labels(platform, step).observe(seconds)
    if any(step.endswith(name) for name in _REFRESH_STEPS) and (status is None or status >= 400):
        TOKEN_REFRESH_FAILURES.labels(platform).inc()


# --- delivery -------------------------------------------------------------------------------------


def record_transition(claim: Any, transition: Any) -> None:
    """Count where a delivery step took a post (called with the runner's claim and transition)."""
    platform = claim.platform
    event = transition.event.removeprefix("post.")
    POST_TRANSITIONS.labels(platform, claim.mode, event).inc()
    code = transition.error.code if transition.error is not None else None
    if event == "retrying":
        POST_RETRIES.labels(platform, code or "UNKNOWN").inc()
    elif transition.status == PostStatus.FAILED:
        POST_FAILURES.labels(platform, code or "UNKNOWN").inc()
        if code == "OUTCOME_UNKNOWN":
            OUTCOME_UNKNOWN.labels(platform).inc()


def record_start(claim: Any, scheduled_for: Any, started_at: Any = None) -> None:
    """A post's first step began at `started_at` (the claim's time unless given; a claim may reach
    ahead and start its post later, at its instant): how late against its scheduled time (never negative)."""
    if claim.previous_status != PostStatus.SCHEDULED or scheduled_for is None:
        return
    lateness = ((started_at or claim.claimed_at) - scheduled_for).total_seconds()
    START_LATENESS.labels(claim.platform).observe(max(0.0, lateness))


# --- webhooks -------------------------------------------------------------------------------------


def record_webhook_send(event: str, outcome: str, seconds: float) -> None:
    """One webhook delivery attempt; outcome is `delivered` (2xx), `failed` (other status) or `error`."""
    WEBHOOK_SENDS.labels(event, outcome).inc()
    WEBHOOK_DURATION.labels(event).observe(seconds)


# --- the database pool (SQLAlchemy pool events, for every engine of the process) -----------------

_pool_watched = False


def watch_db_pools(pool_capacity: int) -> None:
    """Track checked-out connections of every SQLAlchemy pool in this process (idempotent)."""
    global _pool_watched
    DB_POOL_SIZE.set(pool_capacity)
    if _pool_watched:
        return
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    def checked_out(*_: Any) -> None:
        DB_POOL_IN_USE.inc()
        DB_POOL_CHECKOUTS.inc()

    def checked_in(*_: Any) -> None:
        DB_POOL_IN_USE.dec()

    event.listen(Pool, "checkout", checked_out)
    event.listen(Pool, "checkin", checked_in)
    _pool_watched = True
