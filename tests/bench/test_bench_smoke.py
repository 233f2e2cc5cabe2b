"""Every benchmark, end to end in a tiny size (seconds), on its own stack of subprocesses.

Structure only: each benchmark answers figures with a baseline and a ratio, and the command line
prints its table and writes its JSON. No timing is asserted here: speed figures live in `make bench`.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import run as bench_run
from bench.bench_common import Scale, stack_settings
from bench.harness import Stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    folder = Path(tempfile.mkdtemp(prefix="crier-bench-test-"))
    started = Stack(folder, stack_settings())
    try:
        started.start(workers=0)
        yield started
    finally:
        started.close()
        shutil.rmtree(folder, ignore_errors=True)


def run_one(stack: Stack, name: str) -> dict:
    results, servers = asyncio.run(bench_run.run_selected(stack, [name], Scale.tiny()))
    assert set(results) == {name}
    assert servers["postgresql"]
    result = results[name].as_dict()
    assert result["error"] is None, (result["error"], stack.log_tails(lines=20))
    assert not stack.workers, "a benchmark left workers running"
    for figure in result["figures"]:
        assert set(figure) == {"name", "value", "unit", "baseline_name", "baseline", "ratio", "note"}
        assert isinstance(figure["value"], float | int) and math.isfinite(figure["value"]), figure
        assert isinstance(figure["baseline"], float | int) and figure["baseline"] > 0, figure
        # --tiny figures are meaningless as measurements: a difference of two timings (the batch's
        # marginal cost of one more target) can come out below zero on a loaded machine.
        assert figure["ratio"] is not None and math.isfinite(figure["ratio"]), figure
    return result


def names(result: dict) -> list[str]:
    return [figure["name"] for figure in result["figures"]]


def test_batch(stack: Stack) -> None:
    result = run_one(stack, "batch")
    assert len(result["figures"]) == 4
    assert any("SQL statements" in name for name in names(result))
    statements = result["details"]["statements"]
    assert statements["1"]["total"] > 0 and statements["10"]["total"] > 0
    # The batch's INSERT carries its webhook outbox rows as CTEs (issue 11), so it starts with WITH.
    assert statements["10"].get("INSERT", 0) + statements["10"].get("WITH", 0) >= 1
    assert result["details"]["latency"]["1"]["n"] == Scale.tiny().reps


def test_history(stack: Stack) -> None:
    result = run_one(stack, "history")
    assert len(result["figures"]) == 6
    assert result["details"]["rows"] == Scale.tiny().history_rows
    assert result["details"]["walk"]["rows"] == 1_800
    assert result["details"]["deep_page"] == 37
    kinds = {"first", "deep", "q_common", "q_rare", "q_common_deep"}
    assert set(result["details"]["latency"]) == kinds and set(result["details"]["explain"]) == kinds


def test_delivery(stack: Stack) -> None:
    result = run_one(stack, "delivery")
    figures = names(result)
    assert figures[0] == "throughput, 2 workers" and len(figures) == 5
    one, two = result["details"]["throughput"]
    for run in (one, two):
        assert run["posts"] == Scale.tiny().delivery_posts
        assert sum(run["statuses"].values()) == run["posts"]
    punctual = result["details"]["punctuality"]
    assert len(punctual["lateness_s"]) == Scale.tiny().punctual_posts
    assert all(late >= 0 for late in punctual["lateness_s"])


@pytest.mark.skipif(
    shutil.which("wrk") is None and os.geteuid() != 0,
    reason="needs wrk (apt-get install -y wrk); the benchmark installs it only as root",
)
def test_publish_under_wrk_against_the_floor(stack: Stack) -> None:
    result = run_one(stack, "publish")
    assert len(result["figures"]) == 6
    assert all(figure["baseline_name"] == "floor" for figure in result["figures"])
    runs = result["details"]["runs"]
    assert set(runs) == {"floor_10", "crier_10", "floor_1", "crier_1"}
    for name, run in runs.items():
        size = int(name.split("_")[1])
        assert run["errors"] == 0 and run["requests"] > 0
        assert run["rows"] >= run["requests"] * size  # every answered request wrote its batch
        assert run["cpu_seconds"] > 0
    assert result["details"]["parked_posts"] >= 0


def test_history_scale_times_every_filter_on_both_projects(stack: Stack) -> None:
    result = run_one(stack, "history_scale")
    small, large = Scale.tiny().history_scale_rows
    assert result["details"]["projects"]["small"]["rows"] == small
    assert result["details"]["projects"]["large"]["rows"] == large
    suffix = f", {large:,} vs {small:,} rows"
    pages = [name.removeprefix("history ").removesuffix(suffix) for name in names(result)]
    assert pages[:2] == ["first page", "page 90% deep"]
    for kind in ("status", "platform", "mode", "socialAccountId", "containerId", "from/to", "q"):
        assert f"{kind}, first page" in pages and f"{kind}, third page" in pages, kind
    assert len(pages) == 16 and set(result["details"]["explain"]) == set(pages)


def test_replay(stack: Stack) -> None:
    result = run_one(stack, "replay")
    assert len(result["figures"]) == 3
    assert all(stats["n"] == Scale.tiny().replay_reps for stats in result["details"]["latency"].values())


def test_command_line_prints_the_table_and_writes_the_json(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "results" / "latest.json"
    assert bench_run.main(["--tiny", "--only", "replay", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "nproc" in printed and "replay" in printed and "ratio" in printed
    report = json.loads(out.read_text())
    assert report["ok"] is True
    assert set(report) >= {"date", "machine", "servers", "scale", "stack", "seconds", "benchmarks"}
    assert report["machine"]["nproc"] >= 1
    assert list(report["benchmarks"]) == ["replay"]
    assert report["benchmarks"]["replay"]["figures"]


def test_command_line_refuses_an_unknown_benchmark() -> None:
    with pytest.raises(SystemExit):
        bench_run.main(["--only", "nope"])
