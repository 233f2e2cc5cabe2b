"""The faults that strike at random moments: SIGKILLed workers (some while platform answers are held
back) and scripted sandbox faults."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from bench.chaos.plan import Traffic
from bench.harness import Proc

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


class Faults(Traffic):
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
