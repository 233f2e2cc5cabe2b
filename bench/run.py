"""Crier's benchmarks: every figure next to a baseline measured in the same run, as a ratio.

    python -m bench.run [--only batch,history,delivery,replay] [--tiny] [--json PATH] [--keep]   (make bench)

One stack for the whole run (bench/harness.py): embedded PostgreSQL and Redis in a temporary folder,
the migrations, the platform sandbox and `crier api` as subprocesses; workers only while the delivery
benchmark runs. Everything listens on 127.0.0.1. Each benchmark is bounded in repetitions and in time
(`Scale.budget_seconds`) and stops by itself; the stack is torn down whatever happens.

  publish   POST /publish (50 targets, 1 target) under wrk, 50 connections: req/s, p99, CPU ms per
            accepted target, one `crier api` process against a bare Starlette + asyncpg floor app
  batch     POST /publish with 50 targets vs 1: latency, per-target cost, SQL statements per request
  history   GET history page ~900 deep vs the first (50,000 rows), full-text q vs none, buffers touched
  history_scale  GET history at 1M rows vs 10k rows in a project: first page, a deep page, and every
            filter (status, platform, mode, socialAccountId, containerId, from/to, q) with few matches
  delivery  posts/s to terminal with 2 workers vs 1 (300 posts); lateness of 50 posts due at one instant
            against the 1 s sweep interval
  replay    a replayed Idempotency-Key request vs the original
  delivery_floor  one worker at default settings (instant sandbox) vs a bare asyncpg+httpx loop doing the
            same work and vs arq no-op jobs; CPU ms per delivered post
  delivery_burst  1,000 posts due at one instant, 2 workers: start lateness, drain time and rate vs the
            2 workers' steady rate, CPU ms per post (delivery_burst_large: the same with 10,000)

Prints a table (with the machine's CPU count and the date) and writes the figures to
bench/results/latest.json. Exit code 1 when a benchmark failed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import (
    bench_batch,
    bench_delivery,
    bench_delivery_burst,
    bench_delivery_burst_large,
    bench_delivery_floor,
    bench_history,
    bench_history_scale,
    bench_publish,
    bench_replay,
    bench_webhooks,
)
from bench.bench_common import BenchResult, Context, Figure, Scale, stack_settings
from bench.harness import REPO, Stack

# Each module has NAME, TITLE and `async def run(context) -> BenchResult` (optionally EXTRA_SECONDS on
# top of Scale.budget_seconds); they run in this order, on one stack.
# --- API figure modules (perf-api): publish accept vs its floor, history at 10k/1M, self-relative ones ---
API_MODULES: tuple[ModuleType, ...] = (
    bench_publish,
    bench_batch,
    bench_history,
    bench_history_scale,
    bench_replay,
)
# --- DELIVERY figure modules (perf-delivery): register the delivery floor loop, arq no-op, bursts here ---
DELIVERY_MODULES: tuple[ModuleType, ...] = (
    bench_delivery,
    bench_delivery_floor,
    bench_delivery_burst,
    bench_delivery_burst_large,
)
# --- WEBHOOK figure modules (webhooks): delivery with a subscribed endpoint, sends vs a bare httpx loop ---
WEBHOOK_MODULES: tuple[ModuleType, ...] = (bench_webhooks,)
# ---------------------------------------------------------------------------------------------------------
BENCHMARKS: dict[str, ModuleType] = {
    module.NAME: module for module in (*API_MODULES, *DELIVERY_MODULES, *WEBHOOK_MODULES)
}
DEFAULT_JSON = REPO / "bench" / "results" / "latest.json"


def machine() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    return {
        "nproc": usable,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
    }


async def run_selected(
    stack: Stack, names: list[str], scale: Scale, *, log: Callable[[str], None] = print
) -> tuple[dict[str, BenchResult], dict[str, Any]]:
    """Run the named benchmarks one after the other on a started stack (a failure does not stop the rest).

    Returns the results and what the run learned about the servers.
    """
    results: dict[str, BenchResult] = {}
    async with Context(stack, scale, log) as context:
        servers = {"postgresql": await context.db.fetchval("SHOW server_version")}
        for name in names:
            module = BENCHMARKS[name]
            log(f"bench: {name}: {module.TITLE} ...")
            began = time.monotonic()
            try:
                timeout = scale.budget_seconds + getattr(module, "EXTRA_SECONDS", 0) + 60
                result = await asyncio.wait_for(module.run(context), timeout=timeout)
            except Exception as exc:
                result = BenchResult(name, module.TITLE, error=f"{type(exc).__name__}: {exc}")
                log(traceback.format_exc())
                try:
                    await context.stop_workers()
                    await context.park_undelivered()
                except Exception:
                    pass
            result.seconds = time.monotonic() - began
            results[name] = result
            log(
                f"bench: {name}: done in {result.seconds:.1f} s"
                + (f" (FAILED: {result.error})" if result.error else "")
            )
    return results, servers


def run_benchmarks(
    names: list[str] | None = None,
    scale: Scale | None = None,
    *,
    json_path: Path | None = DEFAULT_JSON,
    keep: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Start a stack, run the benchmarks, tear it down; returns the report (also written to `json_path`)."""
    names = list(names or BENCHMARKS)
    scale = scale or Scale.full()
    started_at = dt.datetime.now(dt.UTC)
    folder = Path(tempfile.mkdtemp(prefix="crier-bench-"))
    stack = Stack(folder, stack_settings(), log=log)
    began = time.monotonic()
    failed = True
    try:
        stack.start(workers=0)
        log(
            f"bench: stack up in {time.monotonic() - began:.1f} s (API {stack.api_url}, sandbox {stack.sandbox_url})"
        )
        results, servers = asyncio.run(run_selected(stack, names, scale, log=log))
        failed = any(result.error for result in results.values())
    finally:
        stack.close()
        if failed:
            log(stack.log_tails(lines=15))
        if keep:
            log(f"bench: logs and data kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    report = {
        "date": started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "machine": machine(),
        "servers": servers,
        "scale": asdict(scale),
        "stack": asdict(stack.settings),
        "seconds": round(time.monotonic() - began, 1),
        "ok": not failed,
        "benchmarks": {name: result.as_dict() for name, result in results.items()},
    }
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return report


# ------------------------------------------------------------------------------------------------
# the table
# ------------------------------------------------------------------------------------------------
def _number(value: float | None, unit: str = "") -> str:
    if value is None or value != value:  # None or NaN
        return "n/a"
    if unit == "stmts" or unit == "blocks":
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    return f"{text} {unit}".strip()


def table(report: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str, str]] = []
    notes: list[str] = []
    for name, bench in report["benchmarks"].items():
        if bench["error"]:
            rows.append((name, f"FAILED: {bench['error'][:90]}", "", "", ""))
            continue
        for raw in bench["figures"]:
            figure = Figure(
                raw["name"],
                _nan(raw["value"]),
                raw["unit"],
                raw["baseline_name"],
                _nan(raw["baseline"]),
                raw["note"],
            )
            ratio = figure.ratio
            rows.append(
                (
                    name,
                    figure.name,
                    _number(figure.value, figure.unit),
                    f"{figure.baseline_name}: {_number(figure.baseline, figure.unit)}",
                    "n/a" if ratio is None else f"{ratio:.2f}x",
                )
            )
            if figure.note:
                notes.append(f"  [{name}] {figure.name}: {figure.note}")
    header = ("benchmark", "figure", "value", "baseline (same run)", "ratio")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]
    rule = "-+-".join("-" * width for width in widths)

    def line(row: tuple[str, ...]) -> str:
        return " | ".join(
            cell.ljust(widths[i]) if i < 4 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )

    m = report["machine"]
    out = [
        f"Crier benchmarks - {report['date']} - nproc {m['nproc']} ({m['platform']}, Python {m['python']}) - "
        f"{report['seconds']:.0f} s",
        line(header),
        rule,
        *map(line, rows),
    ]
    if notes:
        out += ["notes:", *notes]
    return "\n".join(out)


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="", help=f"comma-separated, of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--tiny", action="store_true", help="smoke-test sizes (seconds, figures meaningless)")
    parser.add_argument("--reps", type=int, help="timed repetitions per request kind")
    parser.add_argument("--history-rows", type=int, help="rows in the history benchmark's project")
    parser.add_argument("--posts", type=int, help="posts per throughput run")
    parser.add_argument("--publish-seconds", type=float, help="seconds of each wrk run")
    parser.add_argument("--large-rows", type=int, help="rows of the large history_scale project (1,000,000)")
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help=f"where to write the figures ({DEFAULT_JSON})"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, data)")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.only.split(",") if name.strip()] or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    scale = Scale.tiny() if args.tiny else Scale.full()
    if args.large_rows is not None:
        scale.history_scale_rows = (scale.history_scale_rows[0], args.large_rows)
    if args.publish_seconds is not None:
        scale.publish_seconds = args.publish_seconds
    for option, attribute in (
        ("reps", "reps"),
        ("history_rows", "history_rows"),
        ("posts", "delivery_posts"),
    ):
        value = getattr(args, option)
        if value is not None:
            if value < 1:
                parser.error(f"--{option.replace('_', '-')} must be at least 1")
            setattr(scale, attribute, value)
    warnings.filterwarnings(
        "ignore", message="XDG_RUNTIME_DIR is not set"
    )  # platformdirs, via the embedded servers
    previous = signal.signal(signal.SIGTERM, _interrupt)  # the same clean teardown as Ctrl-C
    try:
        report = run_benchmarks(names, scale, json_path=args.json, keep=args.keep)
    except KeyboardInterrupt:
        print("bench: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print()
    print(table(report), flush=True)
    if args.json is not None:
        print(f"\nfigures written to {args.json}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
