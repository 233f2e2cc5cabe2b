"""Publish accept under load: `crier api` against the bare floor app, both driven by `wrk`, 50 connections.

For 50 targets and for 1 target, `wrk` (Debian's; installed with apt-get when missing and running as
root) POSTs the same publish body for `publish_seconds` (after a short untimed warm-up) to one `crier api`
process, then to bench/floor_publish.py (Starlette + asyncpg, the same SQL effects into the same tables,
one uvicorn process). Reported for each: requests/s, p99 latency, and CPU milliseconds per accepted
target (the server process's user+system CPU time during the run / the rows it wrote). The floor comes
first in each pair and every post written is parked (canceled in SQL) before the next run.
BENCH_WRK_CONNECTIONS=1 runs the same with one connection (CPU per request without queueing).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bench_common import BenchResult, Context, Deadline, Tenant, expect, targets
from bench.harness import Proc
from crier.devstack.embedded import free_port

NAME = "publish"
TITLE = "Publish accept under wrk (50 connections): crier api vs a bare Starlette + asyncpg floor"
CONNECTIONS = int(os.environ.get("BENCH_WRK_CONNECTIONS", "50"))
WRK_THREADS = min(2, CONNECTIONS)
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class WrkMissing(RuntimeError):
    pass


def ensure_wrk(log=print) -> str:
    """The path of `wrk`; installs Debian's package when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    how = "install it with `sudo apt-get install -y wrk` (Debian/Ubuntu) and run `make bench` again"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise WrkMissing(f"the publish benchmark needs the wrk load generator: {how}")
    log("bench: installing wrk (apt-get install -y wrk) ...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, capture_output=True, text=True)
    if done.returncode != 0:  # a fresh container has no package lists yet
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True)
        done = subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, capture_output=True, text=True)
    found = shutil.which("wrk")
    if not found:
        raise WrkMissing(f"apt-get could not install wrk ({done.stderr.strip()[-300:]}); {how}")
    return found


def lua_script(body: dict[str, Any], headers: dict[str, str]) -> str:
    """A wrk script sending one fixed JSON POST (wrk.format builds each request from these)."""
    lines = [
        'wrk.method = "POST"',
        f"wrk.body = {_lua_string(json.dumps(body, separators=(',', ':')))}",
        'wrk.headers["Content-Type"] = "application/json"',
    ]
    lines += [f"wrk.headers[ {_lua_string(name)} ] = {_lua_string(value)}" for name, value in headers.items()]
    return "\n".join(lines) + "\n"


def _lua_string(text: str) -> str:
    if "]==]" in text:
        raise ValueError("text closes the Lua long bracket")
    return "[==[" + text + "]==]"  # a long bracket: no escaping needed for JSON or tokens


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * _UNITS[match[2]]


@dataclass
class WrkRun:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx answers plus socket errors
    cpu_seconds: float
    rows: int

    @property
    def cpu_ms_per_target(self) -> float:
        return self.cpu_seconds * 1000 / self.rows if self.rows else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {
            "rps": round(self.requests_per_second, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "requests": self.requests,
            "errors": self.errors,
            "cpu_seconds": round(self.cpu_seconds, 2),
            "rows": self.rows,
            "cpu_ms_per_target": round(self.cpu_ms_per_target, 4),
        }


def parse_wrk(text: str) -> dict[str, float]:
    def number(pattern: str, default: float | None = None) -> float:
        match = re.search(pattern, text)
        if match is None:
            if default is None:
                raise ValueError(f"wrk output without {pattern!r}:\n{text}")
            return default
        return float(match[1])

    latency = dict(re.findall(r"^\s*(50|75|90|99)%\s+([\d.]+[a-z]+)", text, re.M))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return {
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "requests": number(r"(\d+) requests in"),
        "non2xx": number(r"Non-2xx or 3xx responses: (\d+)", 0.0),
        "socket_errors": sum(int(x) for x in socket.groups()) if socket else 0,
        "p50_ms": _ms(latency["50"]),
        "p99_ms": _ms(latency["99"]),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


async def wrk_run(
    context: Context, wrk: str, *, url: str, script: Path, seconds: float, pid: int, project_id: str
) -> WrkRun:
    count = "SELECT count(*) FROM scheduled_posts WHERE project_id = $1"
    rows_before = await context.db.fetchval(count, project_id)
    cpu_before = cpu_seconds(pid)
    done = await asyncio.to_thread(
        subprocess.run,
        [
            wrk,
            f"-t{WRK_THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds:.0f}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    cpu = cpu_seconds(pid) - cpu_before
    rows = await context.db.fetchval(count, project_id) - rows_before
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    parsed = parse_wrk(done.stdout)
    return WrkRun(
        parsed["rps"],
        parsed["p50_ms"],
        parsed["p99_ms"],
        int(parsed["requests"]),
        int(parsed["non2xx"]) + int(parsed["socket_errors"]),
        cpu,
        rows,
    )


async def start_floor(context: Context) -> tuple[Proc, str]:
    stack = context.stack
    port = free_port()
    proc = stack._spawn("floor-publish", ["-m", "bench.floor_publish", "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    await asyncio.to_thread(stack._wait_http, f"{url}/readyz", proc)
    return proc, url


async def run(context: Context) -> BenchResult:
    scale = context.scale
    deadline = Deadline(scale.budget_seconds, NAME)
    result = BenchResult(NAME, TITLE)
    wrk = ensure_wrk(context.log)
    tenant: Tenant = await context.tenant()
    if context.stack.workers:
        await context.stop_workers()  # the posts stay `scheduled`; nothing but the API may spend CPU
    path = f"/v1/content/{tenant.container_id}/publish"
    floor, floor_url = await start_floor(context)
    folder = context.stack.folder
    runs: dict[str, WrkRun] = {}
    try:
        for size in (scale.batch_targets, 1):
            body = {"targets": targets(tenant, size, tag="wrk")}
            # One request through each first: both answer 200 with `size` ids, or the run is meaningless.
            for base in (floor_url, context.stack.api_url):
                answer = expect(await context.http.post(base + path, json=body, headers=tenant.headers), 200)
                if len(answer["scheduledPostIds"]) != size:
                    raise RuntimeError(
                        f"{base} answered {len(answer['scheduledPostIds'])} ids for {size} targets"
                    )
            script = folder / f"publish-{size}.lua"
            script.write_text(lua_script(body, tenant.headers))
            for server, base, pid in (
                ("floor", floor_url, floor.pid),
                ("crier", context.stack.api_url, context.stack.api.pid),
            ):
                deadline.check(f"{server}, {size} targets")
                await wrk_run(
                    context,
                    wrk,
                    url=base + path,
                    script=script,
                    seconds=scale.publish_warmup_seconds,
                    pid=pid,
                    project_id=tenant.project_id,
                )
                measured = await wrk_run(
                    context,
                    wrk,
                    url=base + path,
                    script=script,
                    seconds=scale.publish_seconds,
                    pid=pid,
                    project_id=tenant.project_id,
                )
                if measured.errors * 2 > measured.requests:
                    raise RuntimeError(
                        f"{server}: {measured.errors} of {measured.requests} requests failed ({size} targets)"
                    )
                runs[f"{server}_{size}"] = measured
                await context.park_undelivered()
    finally:
        floor.signal_group(15)
        await asyncio.to_thread(floor.popen.wait, 10)
        result.details["parked_posts"] = await context.park_undelivered()
    for size in (scale.batch_targets, 1):
        crier, bare = runs[f"crier_{size}"], runs[f"floor_{size}"]
        label = f"{size} target{'s' if size > 1 else ''}"
        failed = (
            f"; FAILED answers: crier {crier.errors}/{crier.requests}, floor {bare.errors}/{bare.requests}"
            if crier.errors or bare.errors
            else ""
        )
        result.add(
            f"POST /publish, {label}, req/s",
            crier.requests_per_second,
            "req/s",
            "floor",
            bare.requests_per_second,
            note="target: ratio >= 0.50" + failed,
        )
        result.add(
            f"POST /publish, {label}, p99 latency",
            crier.p99_ms,
            "ms",
            "floor",
            bare.p99_ms,
            note="target: ratio <= 2.0",
        )
        result.add(
            f"POST /publish, {label}, CPU per accepted target",
            crier.cpu_ms_per_target,
            "ms",
            "floor",
            bare.cpu_ms_per_target,
            note="server process CPU time / rows written",
        )
    result.details["runs"] = {name: run.as_dict() for name, run in runs.items()}
    result.details["wrk"] = {
        "connections": CONNECTIONS,
        "threads": WRK_THREADS,
        "seconds": scale.publish_seconds,
        "api_processes": 1,
    }
    return result
