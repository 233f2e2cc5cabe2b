"""What a scrape answers: Crier's metrics (summed over `crier api --workers N` processes) plus the
gauges PostgreSQL knows (posts by status, the due backlog), and the worker's own /metrics port."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

from crier.observability import repository
from crier.observability.metrics import MULTIPROC_ENV

log = logging.getLogger(__name__)

# Terminal statuses only grow, and counting them scans the table: refreshed at most this often.
STATUS_COUNTS_TTL_SECONDS = 30.0


class DatabaseSnapshot(Collector):
    """Posts by status, the due backlog and the oldest due post's age, as last read from PostgreSQL."""

    def __init__(self) -> None:
        self.status_counts: dict[str, int] = {}
        self.status_counts_read_at = float("-inf")
        self.backlog: int | None = None
        self.oldest_due_seconds: float | None = None
        self.up = 0

    async def refresh(self, session_factory: Any) -> None:
        try:
            async with session_factory() as session:
                await repository.bound_scrape_time(session)
                if time.monotonic() - self.status_counts_read_at > STATUS_COUNTS_TTL_SECONDS:
                    self.status_counts = await repository.post_counts_by_status(session)
                    self.status_counts_read_at = time.monotonic()
                self.backlog, self.oldest_due_seconds = await repository.due_backlog(session)
            self.up = 1
        except Exception:  # a scrape must answer even when PostgreSQL does not: crier_database_up says so
            self.up = 0

    def collect(self) -> Iterable[GaugeMetricFamily]:
        up = GaugeMetricFamily("crier_database_up", "1 when the last scrape could read PostgreSQL.")
        up.add_metric([], self.up)
        yield up
        posts = GaugeMetricFamily(
            "crier_posts", "Scheduled posts by status (read from PostgreSQL).", labels=["status"]
        )
        for status, count in sorted(self.status_counts.items()):
            posts.add_metric([status], count)
        yield posts
        if self.backlog is not None:
            backlog = GaugeMetricFamily(
                "crier_due_backlog_posts", "Posts due now that no worker holds (scheduled or lease expired)."
            )
            backlog.add_metric([], self.backlog)
            yield backlog
            oldest = GaugeMetricFamily(
                "crier_due_oldest_age_seconds", "How long the oldest due post has been waiting (0 when none)."
            )
            oldest.add_metric([], self.oldest_due_seconds or 0.0)
            yield oldest


database_snapshot = DatabaseSnapshot()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


class _ThisProcess(Collector):
    """The default registry (process, platform and Crier's own metrics) seen through another registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def exposition() -> tuple[bytes, str]:
    """The text Prometheus scrapes: this process's metrics (or every API process's) plus PostgreSQL's."""
    registry = CollectorRegistry()
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(database_snapshot)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def process_exiting() -> None:
    """In multiprocess mode, drop this process's live gauges (its connections are gone)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())


class _ScrapeTimeDatabase(Collector):
    """The PostgreSQL gauges for a server running in its own thread: each scrape reads them on a
    short-lived connection of its own (the worker's pool belongs to the worker's event loop)."""

    def __init__(self) -> None:
        self.snapshot = DatabaseSnapshot()

    def collect(self) -> Iterable[Metric]:
        from sqlalchemy.ext.asyncio import async_sessionmaker

        from crier.core.db import make_engine

        async def refresh() -> None:
            engine = make_engine(pooled=False)
            try:
                await self.snapshot.refresh(async_sessionmaker(engine))
            finally:
                await engine.dispose()

        try:
            asyncio.run(refresh())
        except Exception:  # no DATABASE_URL or no PostgreSQL: crier_database_up 0
            self.snapshot.up = 0
        return self.snapshot.collect()

    def describe(self) -> Iterable[Metric]:
        return []  # collect() reads PostgreSQL: never at registration time


def serve_worker_metrics(host: str, port: int) -> Any | None:
    """Serve /metrics for `crier worker` from a daemon thread; None when off (port 0) or taken."""
    if not port:
        return None
    registry = CollectorRegistry()
    registry.register(_ThisProcess())
    registry.register(_ScrapeTimeDatabase())
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:  # another worker on this host has the port: deliver anyway, say so
        log.warning("worker metrics not served", extra={"host": host, "port": port, "error": str(exc)})
        return None
    log.info("worker metrics served", extra={"url": f"http://{host}:{port}/metrics"})
    return server
