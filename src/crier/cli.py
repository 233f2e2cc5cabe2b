"""The `crier` command: run the API, the worker, migrations, the sandbox, and operator tasks.

Every mistake is answered with one line on stderr and a non-zero exit, never a traceback:
2 for a usage or configuration problem, 1 for anything else (CRIER_TRACEBACK=1 shows the traceback).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from typing import NoReturn

from crier.admin.cli import add_admin_commands
from crier.core.settings import ConfigError, load_settings


class OneLineParser(argparse.ArgumentParser):
    """argparse, with a usage mistake answered in one line (subcommands inherit the class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _api(args: argparse.Namespace) -> int:
    import uvicorn

    from crier.core.logging import uvicorn_log_config
    from crier.observability.metrics import MULTIPROC_ENV

    settings = load_settings()
    settings.required_database_url()
    settings.required_redis_url()
    owned_metrics_dir = None
    if args.workers > 1 and not os.environ.get(MULTIPROC_ENV):
        # N processes answer /metrics in turn: each writes its values to this folder, each scrape sums them.
        owned_metrics_dir = tempfile.mkdtemp(prefix="crier-metrics-")
        os.environ[MULTIPROC_ENV] = owned_metrics_dir
    try:
        uvicorn.run(
            "crier.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=settings.log_level.lower(),
            log_config=uvicorn_log_config(settings.log_level),
            access_log=False,
            proxy_headers=True,
        )
    finally:
        if owned_metrics_dir:
            shutil.rmtree(owned_metrics_dir, ignore_errors=True)
    return 0


def _worker(args: argparse.Namespace) -> int:
    from crier.core.stackfile import use_running_stack

    if args.check:
        use_running_stack()
    settings = load_settings()
    settings.required_redis_url()
    from crier.delivery import worker

    if args.check:
        return worker.check_health()
    settings.required_database_url()
    from crier.core.logging import configure_logging
    from crier.observability.exposition import serve_worker_metrics
    from crier.observability.metrics import watch_db_pools
    from crier.observability.tracing import configure_tracing

    configure_logging(settings.log_level)
    watch_db_pools(settings.database_pool_size * 2)
    configure_tracing(settings)
    serve_worker_metrics(settings.worker_metrics_host, settings.worker_metrics_port)
    worker.run_worker()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    load_settings().required_database_url()
    from crier.migrate import upgrade

    upgrade(revision=args.revision)
    print(f"database migrated to {args.revision}")
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from crier.sandbox.server import run

    run(args.host, args.port)
    return 0


def _dev(args: argparse.Namespace) -> int:
    from crier.devstack.dev import run_dev

    return run_dev(api_port=args.port, sandbox_port=args.sandbox_port)


def _check_config(args: argparse.Namespace) -> int:
    from crier.admin.check_config import check_config

    return check_config(connect=args.connect, compose=args.compose)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="crier", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    api = commands.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", default=os.environ.get("CRIER_HOST", "127.0.0.1"))
    api.add_argument("--port", type=int, default=int(os.environ.get("CRIER_PORT", "8000")))
    api.add_argument("--workers", type=int, default=1)
    api.set_defaults(run=_api)

    worker = commands.add_parser(
        "worker", help="deliver due posts (serves /metrics on CRIER_WORKER_METRICS_PORT)"
    )
    worker.add_argument("--check", action="store_true", help="exit 0 if a worker is alive (health check)")
    worker.set_defaults(run=_worker)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(run=_migrate)

    sandbox = commands.add_parser(
        "sandbox", help="serve loopback fakes of TikTok, Instagram, Twilio, managed"
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8099)
    sandbox.set_defaults(run=_sandbox)

    dev = commands.add_parser("dev", help="API + worker + sandbox on embedded PostgreSQL/Redis (make dev)")
    dev.add_argument("--port", type=int, default=int(os.environ.get("CRIER_PORT", "8000")))
    dev.add_argument("--sandbox-port", type=int, default=int(os.environ.get("CRIER_SANDBOX_PORT", "8099")))
    dev.set_defaults(run=_dev)

    check = commands.add_parser("check-config", help="say what production would refuse in this configuration")
    check.add_argument("--connect", action="store_true", help="also connect to PostgreSQL and Redis")
    check.add_argument(
        "--compose",
        action="store_true",
        help="judge .env for docker-compose.yml (which sets DATABASE_URL and REDIS_URL itself)",
    )
    check.set_defaults(run=_check_config)

    add_admin_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except KeyboardInterrupt:
        return 130
    except ConfigError as exc:
        print(f"crier: config problem: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if os.environ.get("CRIER_TRACEBACK"):
            raise
        detail = " ".join(str(exc).split()) or "no details"
        print(f"crier: {type(exc).__name__}: {detail} (CRIER_TRACEBACK=1 shows where)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
