"""The run: the fault schedule beside the load, then settle and both audits; and the stack around it."""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.chaos import webhooks
from bench.chaos.audit import audit_records
from bench.chaos.config import ChaosConfig
from bench.chaos.database import Database
from bench.chaos.outages import Outages
from bench.chaos.report import ChaosReport
from bench.chaos.tenants import build_tenants
from bench.harness import Stack
from crier.core.vocabulary import TERMINAL_STATUSES


class Chaos(Outages):
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
            await webhooks.subscribe(self)  # webhooks (issue 11): subscribed before the first post
            self.probe_container = await self._create_container(self.orgs["A"], "video", "probe")
            self.report.workers_started = len(self.stack.workers)
            publisher = asyncio.create_task(self.publish_all(), name="publisher")
            chaos = asyncio.create_task(self.chaos(), name="chaos")
            await asyncio.gather(publisher, chaos)
            if self.background:
                await asyncio.gather(*self.background, return_exceptions=True)
            await self.settle()
            await self.audit()
            await webhooks.settle_and_audit(self)
        finally:
            self.report.elapsed = time.monotonic() - self.started
            self.report.answers_held = self.stack.proxy.answers_held
            self.report.answers_lost = self.stack.proxy.answers_lost
            await self.http.aclose()
            await self.sandbox.aclose()
            await self.db.close()
        return self.report

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
                post_id
                for post_id in self.accepted
                if rows.get(post_id, {}).get("status") not in TERMINAL_STATUSES
            ]
            pending += [
                post_id
                for post_id, row in rows.items()
                if post_id not in self.accepted and row["status"] not in TERMINAL_STATUSES
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
