"""Fault-injection suite: publish and schedule under SIGKILLs, Redis and PostgreSQL outages, then audit.

    python -m bench.chaos [--posts N] [--workers K] [--seed S]      (make chaos; CHAOS_POSTS sizes it)

What it does (all on 127.0.0.1, see bench/harness.py for the processes):
 1. an embedded PostgreSQL and Redis in a temporary folder, the migrations, the platform sandbox, the
    API and K workers as subprocesses;
 2. tenants through the operator API: two organizations (one with a verified operator phone), TikTok,
    Instagram and managed-layer accounts, a music catalog;
 3. at least N posts through `/publish` and `/schedule` (modes publish, draft, managed; video, image,
    multi), each target with a partner-chosen `scheduledPostId` and a `captionOverride` carrying it, every
    call with an Idempotency-Key and retried with the SAME key on 503 / connection errors; a few
    scheduled posts are canceled;
 4. meanwhile: SIGKILL a random worker every few seconds (and start a replacement); every other kill
    (sometimes of every worker at once) lands while the answers to irreversible calls (TikTok init,
    media_publish, Twilio, dispatch) are held back by the proxy between the workers and the sandbox:
    the platform has acted, the journal only has the intent marker, i.e. between the platform's
    acceptance and the database commit; sandbox faults that act and then answer an error or too late;
    Redis stopped and restarted (the API must keep accepting, delivery must catch up within seconds);
    PostgreSQL stopped (immediate, then fast) and restarted (the API must answer 503 UNAVAILABLE in the
    envelope quickly, and the same API and workers must recover by themselves); a few requests are sent
    twice with the same Idempotency-Key (the replay must be byte-identical);
 5. then, with workers running, waits until every post is terminal and checks from the sandbox's own
    records: no post created twice on a platform, every `published`/`draft` post exists there (with
    the externalId Crier stored), no canceled post delivered, nothing accepted and lost.

The modules, each small: config (sizes, pace, shrunk worker settings), tenants (organizations, accounts,
planned posts), plan (the partner's load), faults (kills, sandbox faults), outages (Redis, PostgreSQL),
audit (rows against the platforms' records), webhooks (endpoints, a failing receiver, its audit),
report (counters and summary), run (the schedule and the stack), __main__ (the command line).

Exit code 0 only when every check passed. Figures: accepted, published, draft, failed (by code),
canceled, duplicates, lost, published-missing-on-platform, kills, outages, elapsed seconds.
"""

from bench.chaos.audit import audit_records
from bench.chaos.config import ChaosConfig
from bench.chaos.report import ChaosReport, Check
from bench.chaos.run import Chaos, run_chaos

__all__ = ["Chaos", "ChaosConfig", "ChaosReport", "Check", "audit_records", "run_chaos"]
