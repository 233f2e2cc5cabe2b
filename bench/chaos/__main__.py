"""`python -m bench.chaos` (make chaos): the command line around run_chaos."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from bench.chaos import __doc__ as DESCRIPTION
from bench.chaos.config import ChaosConfig
from bench.chaos.run import run_chaos


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--posts", type=int, default=int(os.environ.get("CHAOS_POSTS", "1000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("CHAOS_WORKERS", "3")))
    parser.add_argument(
        "--seed", type=int, default=int(os.environ["CHAOS_SEED"]) if os.environ.get("CHAOS_SEED") else None
    )
    parser.add_argument("--redis-outages", type=int, default=2)
    parser.add_argument("--pg-outages", type=int, default=2)
    parser.add_argument("--window", type=float, default=None, help="seconds over which the posts are issued")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, data)")
    parser.add_argument("--quiet", action="store_true", help="no timeline, only the summary")
    args = parser.parse_args(argv)
    if args.posts < 1 or args.workers < 1:
        parser.error("--posts and --workers must be at least 1")
    config = ChaosConfig(
        posts=args.posts,
        workers=args.workers,
        seed=args.seed,
        redis_outages=args.redis_outages,
        pg_outages=args.pg_outages,
        window_seconds=args.window,
        keep_folder=args.keep,
        verbose=not args.quiet,
    )
    signal.signal(signal.SIGTERM, _interrupt)  # same clean teardown as Ctrl-C
    try:
        report = run_chaos(config)
    except KeyboardInterrupt:
        print("chaos: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    print(report.summary(), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
