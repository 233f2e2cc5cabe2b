"""Redis and PostgreSQL outages, each with its checks: the API keeps accepting or answers 503 UNAVAILABLE in
the envelope, quickly, and the same processes recover by themselves."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import httpx

from bench.chaos.api import describe, envelope_problem
from bench.chaos.faults import Faults
from bench.chaos.tenants import Planned
from crier.core.errors import Unavailable
from crier.core.ids import new_id


class Outages(Faults):
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
            f"{describe(response)} in {took:.2f} s",
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
        sp = new_id("sp")
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
            problem = envelope_problem(response, 503, Unavailable.code)
            if response.status_code == 200 and method == "POST":  # should not happen; audit it like the rest
                self.planned[sp] = Planned(
                    sp, "A", account.id, "tiktok", "publish", "publish", "video", probe=True
                )
                self.accepted[sp] = time.monotonic()
            ok = problem is None and took <= config.unavailable_within
            self.check(
                f"pg#{number}: {what} answers 503 UNAVAILABLE while PostgreSQL is down",
                ok,
                f"{describe(response)} in {took:.2f} s" + (f" ({problem})" if problem else ""),
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
                last = describe(response)
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
                else f"publish {describe(response)}; post not terminal within {config.recover_within:.0f} s"
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
                label = describe(response)
                if (
                    response.status_code != 200
                    and envelope_problem(response, 503, Unavailable.code) is not None
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
