"""The `crier` command: run the API, the worker, migrations, the sandbox, and operator tasks."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence

from crier.admin.cli import add_admin_commands


def _api(args: argparse.Namespace) -> int:
    import uvicorn

    from crier.core.settings import get_settings

    uvicorn.run("crier.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=get_settings().log_level.lower(), access_log=False, proxy_headers=True)
    return 0


def _worker(args: argparse.Namespace) -> int:
    from crier.delivery import worker

    if args.check:
        return worker.check_health()
    worker.run_worker()
    return 0


def _migrate(args: argparse.Namespace) -> int:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crier", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    api = commands.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", default=os.environ.get("CRIER_HOST", "127.0.0.1"))
    api.add_argument("--port", type=int, default=int(os.environ.get("CRIER_PORT", "8000")))
    api.add_argument("--workers", type=int, default=1)
    api.set_defaults(run=_api)

    worker = commands.add_parser("worker", help="deliver due posts")
    worker.add_argument("--check", action="store_true", help="exit 0 if a worker is alive (health check)")
    worker.set_defaults(run=_worker)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(run=_migrate)

    sandbox = commands.add_parser("sandbox", help="serve loopback fakes of TikTok, Instagram, Twilio, managed")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8099)
    sandbox.set_defaults(run=_sandbox)

    dev = commands.add_parser("dev", help="API + worker + sandbox on embedded PostgreSQL/Redis (make dev)")
    dev.add_argument("--port", type=int, default=int(os.environ.get("CRIER_PORT", "8000")))
    dev.add_argument("--sandbox-port", type=int, default=int(os.environ.get("CRIER_SANDBOX_PORT", "8099")))
    dev.set_defaults(run=_dev)

    add_admin_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
