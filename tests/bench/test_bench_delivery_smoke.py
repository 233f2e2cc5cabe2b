"""The delivery benchmarks against their floors, end to end in a tiny size (structure only, no timing)."""

from __future__ import annotations

from tests.bench.test_bench_smoke import names, run_one, stack  # noqa: F401 - `stack` is a fixture

TINY = {"steady_posts": 100, "burst_small": 50}  # bench_delivery_floor.sizes() at Scale.tiny()


def test_delivery_against_the_floor_loop_and_arq(stack) -> None:
    result = run_one(stack, "delivery_floor")
    assert names(result) == [
        "one worker, default settings, posts/s",
        "one worker, posts/s vs arq no-op jobs/s",
        "CPU per delivered post, one worker",
    ]
    assert len(result["details"]["rounds"]) == 1
    for run in ("crier", "floor"):
        assert result["details"][run]["statuses"] == {"published": TINY["steady_posts"]}, result["details"][
            run
        ]
    assert result["details"]["floor_process"]["ended"] == TINY["steady_posts"]
    assert result["details"]["arq_jobs_per_second"] > 0


def test_a_burst_due_at_one_instant(stack) -> None:
    result = run_one(stack, "delivery_burst")
    count = TINY["burst_small"]
    assert len(result["figures"]) == 6 and all(
        name.startswith(f"{count} due at once") for name in names(result)
    )
    burst = result["details"]["burst_small"]
    assert burst["statuses"] == {"published": count} and burst["started"] == count
    assert result["details"]["steady"]["statuses"] == {"published": TINY["steady_posts"]}
