"""What every part of a chaos run shares: the stack, the ledger of planned and accepted posts, the API client.

The run is one object built in layers, each in its own module and each using the ones below it:
ChaosState (here) → Traffic (plan.py: the partner's load) → Faults (faults.py: kills, sandbox faults)
→ Outages (outages.py: Redis and PostgreSQL) → Chaos (run.py: the schedule, the settle, the audit).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx

from bench.chaos.api import error_code
from bench.chaos.config import ChaosConfig
from bench.chaos.database import Database
from bench.chaos.report import ChaosReport, Check
from bench.chaos.tenants import Org, Planned
from bench.harness import Stack
from crier.core.errors import IdempotencyInFlight
from crier.core.vocabulary import TERMINAL_STATUSES


class ChaosState:
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
                code = error_code(response)
                self.report.api_answers[f"{response.status_code}" + (f" {code}" if code else "")] += 1
                if response.status_code >= 500 and response.status_code != 503:
                    self.report.api_5xx_other.append(f"{method} {path} -> {response.status_code} {code}")
                if response.headers.get("idempotent-replayed") == "true":
                    self.report.replays += 1
                transient = (
                    response.status_code in (429, 500, 502, 503, 504) or code == IdempotencyInFlight.code
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

    def _background(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def wait_terminal(self, ids: list[str], timeout: float) -> float | None:
        """Seconds until every id is terminal in PostgreSQL, or None after `timeout`."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            try:
                rows = await self.db.rows(ids)
                if all(rows.get(post_id, {}).get("status") in TERMINAL_STATUSES for post_id in ids):
                    return time.monotonic() - began
            except Exception:
                pass
            await asyncio.sleep(0.25)
        return None
