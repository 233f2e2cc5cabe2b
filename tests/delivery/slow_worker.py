"""A `crier worker` process whose adapter takes 2 s per post (run by test_worker.py, killed with SIGTERM)."""

from __future__ import annotations

import asyncio

from crier.core.logging import configure_logging
from crier.delivery.worker import create_crier_worker
from crier.platforms.base import Outcome


class SlowAdapter:
    async def advance(self, job, journal) -> Outcome:
        await asyncio.sleep(2)
        return Outcome.published("slow-1", "https://www.tiktok.com/@creator/video/slow-1")


def main() -> None:
    configure_logging("INFO")
    asyncio.set_event_loop(asyncio.new_event_loop())
    adapter = SlowAdapter()
    create_crier_worker(ctx={"adapter_for": lambda job, **_: adapter}).run()


if __name__ == "__main__":
    main()
