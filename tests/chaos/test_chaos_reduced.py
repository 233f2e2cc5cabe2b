"""The fault-injection suite in reduced size (`make chaos` runs it at ≥ 1,000 posts).

120 posts over two workers, SIGKILLs (some while the platforms' answers to irreversible calls are held
back, i.e. between a platform's acceptance and the database commit), one Redis outage and one
PostgreSQL restart (immediate stop); then every accepted post must be terminal, none created twice on a
platform, every published/draft post present there, and the outage checks must have passed. The
harness starts its own embedded PostgreSQL and Redis, sandbox, API and workers as subprocesses in a
temporary folder and tears them down whatever happens.
"""

from __future__ import annotations

import os

from bench.chaos import ChaosConfig, run_chaos


def test_chaos_reduced() -> None:
    config = ChaosConfig(
        posts=int(os.environ.get("CHAOS_TEST_POSTS", "120")),
        workers=2,
        seed=int(os.environ["CHAOS_SEED"]) if os.environ.get("CHAOS_SEED") else None,
        redis_outages=1,
        pg_outages=1,
        window_seconds=25.0,
        tail_seconds=6.0,
        kill_every=(2.0, 4.0),
        faults_every=(2.0, 4.0),
        settle_timeout=90.0,
        verbose=True,
    )
    report = run_chaos(config)
    print(report.summary())
    assert report.kills >= 3 and report.window_kills >= 1, report.summary()
    assert report.redis_outages == 1 and report.pg_outages == 1, report.summary()
    assert report.ok, report.summary()
