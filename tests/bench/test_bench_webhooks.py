"""The webhooks benchmark end to end in its tiny size, on its own stack (structure only, no timing asserted)."""

from __future__ import annotations

from bench.bench_common import Scale
from bench.harness import Stack
from tests.bench.test_bench_smoke import names, run_one, stack  # noqa: F401  (the module's stack fixture)


def test_webhooks(stack: Stack) -> None:
    result = run_one(stack, "webhooks")
    assert names(result) == ["delivery throughput, 1 subscribed endpoint", "webhook sends/s, one endpoint"]
    assert all(len(runs) == 2 for runs in result["details"]["throughput"].values())
    sends = result["details"]["sends"]
    assert sends["count"] == 20 and len(sends["sender"]) == len(sends["floor"]) == 2
    assert Scale.tiny().delivery_posts == 20
