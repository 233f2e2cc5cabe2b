"""The real processes: `crier api --workers 2` adds up its processes' metrics, `crier worker` serves its
own /metrics port, and every line either writes to stderr is JSON (uvicorn's included)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from crier.devstack.dev import wait_http
from crier.devstack.embedded import free_port
from tests.observability.test_metrics import samples, value


@contextmanager
def crier_process(args: list[str], env: dict[str, str], stderr_path) -> Iterator[subprocess.Popen]:
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "crier", *args],
            env=env,
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def process_env(servers, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": servers["database_url"],
        "REDIS_URL": servers["redis_url"],
        "CRIER_LOG_LEVEL": "INFO",
        "CRIER_DOTENV": "none",
        **extra,
    }


def assert_every_line_is_json(path) -> list[dict]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    assert lines, "the process wrote nothing"
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
    return parsed


def test_api_workers_report_their_sum_and_log_json_only(servers, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    stderr = tmp_path / "api.log"
    env = process_env(servers)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with crier_process(["api", "--port", str(port), "--workers", "2"], env, stderr) as api:
        wait_http(
            f"{base}/healthz", 60, still_alive=lambda: api.poll() is None or pytest.fail(stderr.read_text())
        )
        time.sleep(1.0)  # both workers up
        route = {"method": "GET", "route": "/healthz", "status": "200"}
        start = value(samples(httpx.get(f"{base}/metrics").text), "crier_http_requests_total", **route)
        for _ in range(20):
            with httpx.Client() as fresh:  # a new connection each time: the kernel spreads them over workers
                assert fresh.get(f"{base}/healthz").status_code == 200
        scrapes = [
            value(samples(httpx.get(f"{base}/metrics").text), "crier_http_requests_total", **route)
            for _ in range(6)
        ]
    assert scrapes == [start + 20] * 6
    lines = assert_every_line_is_json(stderr)
    assert any(line["logger"].startswith("uvicorn") for line in lines)
    access = [line for line in lines if line["logger"] == "crier.access"]
    assert len([line for line in access if line["route"] == "/healthz"]) >= 20


def test_worker_serves_metrics_on_its_own_port(servers, tmp_path):
    port = free_port()
    stderr = tmp_path / "worker.log"
    env = process_env(servers, CRIER_WORKER_METRICS_PORT=str(port))
    with crier_process(["worker"], env, stderr) as worker:
        wait_http(
            f"http://127.0.0.1:{port}/metrics",
            60,
            still_alive=lambda: worker.poll() is None or pytest.fail(stderr.read_text()),
        )
        found = samples(httpx.get(f"http://127.0.0.1:{port}/metrics").text)
    assert value(found, "crier_database_up") == 1
    assert value(found, "crier_due_backlog_posts") == 0
    assert ("crier_db_pool_size", frozenset()) in found
    assert_every_line_is_json(stderr)
