"""The chaos run's findings: counters filled during the run and by the audit, and the printed summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class ChaosReport:
    seed: int
    requested: int
    accepted: int = 0
    posts_in_db: int = 0
    unconfirmed_in_db: int = 0
    statuses: Counter = field(default_factory=Counter)
    failed_by_code: Counter = field(default_factory=Counter)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    published_missing: list[str] = field(default_factory=list)
    draft_missing: list[str] = field(default_factory=list)
    external_id_mismatch: list[str] = field(default_factory=list)
    canceled_delivered: list[str] = field(default_factory=list)
    cancel_not_honoured: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    failed_on_platform: Counter = field(default_factory=Counter)
    published_without_external_id: int = 0
    reconciled: Counter = field(default_factory=Counter)  # found / absent / unknown, by the post's last round
    unknown_why: Counter = field(default_factory=Counter)  # why the platform could not tell
    deferred: int = 0  # posts that waited `scheduled` for a platform limit at least once
    deferred_resumed: int = 0  # of those, delivered (published or draft) afterwards
    deferred_canceled: int = 0  # of those, canceled by the partner while they waited
    tiktok_rate_limited: int = 0  # 429s the sandbox answered for TikTok's per-token rates
    refused: Counter = field(default_factory=Counter)
    api_answers: Counter = field(default_factory=Counter)
    api_5xx_other: list[str] = field(default_factory=list)
    transport_errors: Counter = field(default_factory=Counter)
    replays: int = 0
    resends: int = 0
    resend_mismatches: list[str] = field(default_factory=list)
    id_mismatches: list[str] = field(default_factory=list)  # 200 answers whose ids are not the targets'
    cancels: Counter = field(default_factory=Counter)
    kills: int = 0
    window_kills: int = 0
    answers_held: int = 0
    answers_lost: int = 0
    faults_injected: int = 0
    workers_started: int = 0
    worker_crashes: list[str] = field(default_factory=list)
    redis_outages: int = 0
    pg_outages: int = 0
    checks: list[Check] = field(default_factory=list)
    sandbox_calls: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    settle_seconds: float | None = None

    @property
    def problems(self) -> list[str]:
        found = []
        if self.accepted < self.requested:
            found.append(f"only {self.accepted} of {self.requested} posts were accepted")
        for name in (
            "duplicates",
            "lost",
            "published_missing",
            "draft_missing",
            "external_id_mismatch",
            "canceled_delivered",
            "cancel_not_honoured",
            "orphans",
            "api_5xx_other",
            "worker_crashes",
            "resend_mismatches",
            "id_mismatches",
        ):
            items = getattr(self, name)
            if items:
                found.append(f"{name.replace('_', '-')}: {len(items)} (e.g. {items[:3]})")
        if self.tiktok_rate_limited:
            found.append(
                f"tiktok-rate-limited: {self.tiktok_rate_limited} platform 429s (pacing should prevent them)"
            )
        found += [f"check failed: {check.name}: {check.detail}" for check in self.checks if not check.ok]
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        status = self.statuses.get
        failed = ", ".join(f"{code}={n}" for code, n in self.failed_by_code.most_common()) or "-"
        settled = "never" if self.settle_seconds is None else f"{self.settle_seconds} s after the chaos"
        calls = ", ".join(f"{name}={n}" for name, n in sorted(self.sandbox_calls.items()))
        lines = [
            "",
            "=" * 100,
            f"chaos summary (seed {self.seed}, {self.elapsed:.1f} s)",
            f"  accepted   {self.accepted} (requested {self.requested}; rows in PostgreSQL "
            f"{self.posts_in_db}, of which accepted without a 200 seen: {self.unconfirmed_in_db})",
            f"  published  {status('published', 0)}",
            f"  draft      {status('draft', 0)}",
            f"  failed     {status('failed', 0)}  by code: {failed}",
            f"  canceled   {status('canceled', 0)}  (cancel answers: {dict(self.cancels)})",
            f"  duplicates {len(self.duplicates)}",
            f"  lost       {len(self.lost)}",
            f"  published-missing-on-platform {len(self.published_missing)}   "
            f"draft-missing {len(self.draft_missing)}   "
            f"externalId-mismatch {len(self.external_id_mismatch)}   "
            f"canceled-but-delivered {len(self.canceled_delivered)}   orphans {len(self.orphans)}",
            f"  failed but on the platform (expected for OUTCOME_UNKNOWN): "
            f"{dict(self.failed_on_platform) or 0}   published without externalId: "
            f"{self.published_without_external_id}",
            f"  reconciled unknown outcomes: found {self.reconciled.get('found', 0)}, proven absent and "
            f"sent once more {self.reconciled.get('absent', 0)}, still unknown {self.reconciled.get('unknown', 0)} "
            f"{dict(self.unknown_why) or ''}",
            f"  quota      posts deferred {self.deferred}, resumed and delivered {self.deferred_resumed}, "
            f"canceled while waiting {self.deferred_canceled}; "
            f"TikTok 429s for per-token rates {self.tiktok_rate_limited}",
            f"  kills      {self.kills} (in the ambiguous window: {self.window_kills}; workers started "
            f"{self.workers_started}; crashed on their own: {len(self.worker_crashes)})",
            f"  ambiguous  platform answers held back {self.answers_held}; irreversible calls the platform "
            f"performed whose answer never reached a worker: {self.answers_lost}",
            f"  outages    redis {self.redis_outages}, postgresql {self.pg_outages}; sandbox fault scripts "
            f"{self.faults_injected}",
            f"  API        answers {dict(self.api_answers)}; idempotent replays {self.replays} (same "
            f"request sent again {self.resends} times, answered otherwise {len(self.resend_mismatches)}); "
            f"transport errors {dict(self.transport_errors) or 0}; refused targets {dict(self.refused) or 0}",
            f"  settle     every post terminal {settled}",
            f"  sandbox calls {calls}",
            "  checks:",
        ]
        lines += [f"    [{'ok' if c.ok else 'FAIL'}] {c.name}: {c.detail}" for c in self.checks]
        problems = self.problems
        lines.append("RESULT: " + ("PASS" if not problems else "FAIL"))
        lines += [f"  - {problem}" for problem in problems]
        lines.append(
            f"COUNTS accepted={self.accepted} published={status('published', 0)} "
            f"draft={status('draft', 0)} failed={status('failed', 0)} canceled={status('canceled', 0)} "
            f"duplicates={len(self.duplicates)} lost={len(self.lost)} "
            f"published_missing={len(self.published_missing)} kills={self.kills} "
            f"reconciled_found={self.reconciled.get('found', 0)} reconciled_absent={self.reconciled.get('absent', 0)} "
            f"still_unknown={self.reconciled.get('unknown', 0)} deferred={self.deferred} "
            f"deferred_resumed={self.deferred_resumed} tiktok_429={self.tiktok_rate_limited} "
            f"outages={self.redis_outages + self.pg_outages} elapsed={self.elapsed:.0f}s"
        )
        lines.append("=" * 100)
        return "\n".join(lines)
