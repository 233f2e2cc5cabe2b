"""What a chaos run is told: its size, its pace, its outages, and the worker settings it shrinks.

Settings are named through Crier's own `Settings` (`setting_env`), so a renamed setting breaks here
loudly instead of being ignored by the workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.harness import StackSettings
from crier.core.settings import Settings


def setting_env(name: str) -> str:
    """The environment variable of Crier's setting `name` (KeyError if Crier has no such setting)."""
    Settings.model_fields[name]
    return f"{Settings.model_config['env_prefix']}{name.upper()}"


# Reconciliation and pacing, shrunk to the run's scale. The reconcile window must exceed the longest
# time the sandbox may take to act on a request after it was sent (the 7 s latency faults in faults.py): only
# then does "nothing on the platform" prove absence.
TIKTOK_RATE_WINDOW_SECONDS = 2.0
LIMITS_ENV = {
    setting_env("reconcile_window_seconds"): "20",
    setting_env("reconcile_max_seconds"): "60",
    setting_env("tiktok_rate_window_seconds"): str(TIKTOK_RATE_WINDOW_SECONDS),
    # wide enough for a loaded machine: creator_info's round trip sits between the init slot and the call
    setting_env("pacing_margin_seconds"): "1.0",
    setting_env("pacing_inline_wait_seconds"): "0.5",
}


@dataclass
class ChaosConfig:
    posts: int = 1000
    workers: int = 3
    seed: int | None = None
    redis_outages: int = 2
    pg_outages: int = 2
    kill_every: tuple[float, float] = (2.0, 5.0)  # seconds between SIGKILLs
    window_seconds: float | None = None  # posts are issued over this long (default: from the size)
    tail_seconds: float = 8.0  # chaos goes on this long after the last post was issued
    outage_seconds: float = 4.0
    settle_timeout: float = 150.0  # after the chaos, every post must be terminal within this
    publish_concurrency: int = 8
    cancel_share: float = 0.03  # of scheduled targets
    resend_share: float = 0.05  # of accepted batches, sent again with the same Idempotency-Key
    faults_every: tuple[float, float] = (3.0, 7.0)
    unavailable_within: float = 5.0  # the API must answer 503 while PostgreSQL is down within this
    recover_within: float = 30.0  # API answers again / workers deliver again after PostgreSQL returns
    catch_up_within: float = 30.0  # posts accepted while Redis was down are terminal this soon after
    keep_folder: bool = False
    verbose: bool = True
    stack: StackSettings = field(default_factory=lambda: StackSettings(extra_env=dict(LIMITS_ENV)))
    # Quota pressure: the sandbox enforces TikTok's per-token rates over this window (Crier paces for it).
    tiktok_rate_window_seconds: float = TIKTOK_RATE_WINDOW_SECONDS
    quota_burst: int = 16  # posts published at once to one TikTok account: most must wait (deferred)

    def window(self) -> float:
        if self.window_seconds is not None:
            return self.window_seconds
        return min(300.0, max(25.0, self.posts / 15))
