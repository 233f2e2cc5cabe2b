"""Idempotent replay cost: the same request with the same Idempotency-Key, answered from the store.

For `POST /v1/content/{id}/publish` (1 target) and `POST /v1/content`, each repetition sends a fresh
key once (the original: does the work and stores the answer) and again (the replay: must come back
byte-for-byte with `Idempotent-Replayed: true`, writing nothing). Also times the same publish without
any key, so the cost of the idempotency bookkeeping on the original shows too.
"""

from __future__ import annotations

import uuid

from bench.bench_common import BenchResult, Context, Deadline, expect, median, summary_ms, targets

NAME = "replay"
TITLE = "Idempotent replay cost (replay vs original)"


async def run(context: Context) -> BenchResult:
    scale = context.scale
    deadline = Deadline(scale.budget_seconds, NAME)
    result = BenchResult(NAME, TITLE)
    tenant = await context.tenant()
    publish_path = f"/v1/content/{tenant.container_id}/publish"
    publish_body = {"targets": targets(tenant, 1, tag="replay")}
    content_body = {
        "projectId": tenant.project_id,
        "mediaType": "video",
        "media": [{"url": "https://cdn.example.com/bench/replay.mp4"}],
        "caption": "replay #crier",
    }
    kinds = {"publish": (publish_path, publish_body, 200), "content": ("/v1/content", content_body, 201)}
    samples: dict[str, list[float]] = {
        "publish_no_key": [],
        "publish_original": [],
        "publish_replay": [],
        "content_original": [],
        "content_replay": [],
    }

    async def pair(kind: str, record: bool) -> None:
        path, body, status = kinds[kind]
        headers = {**tenant.headers, "Idempotency-Key": f"bench-{kind}-{uuid.uuid4()}"}
        took_original, original = await context.timed("POST", path, json=body, headers=headers)
        expect(original, status)
        took_replay, replay = await context.timed("POST", path, json=body, headers=headers)
        expect(replay, status)
        if replay.headers.get("idempotent-replayed") != "true" or replay.content != original.content:
            raise RuntimeError(f"{kind}: the second call with the same key was not a byte-for-byte replay")
        if record:
            samples[f"{kind}_original"].append(took_original)
            samples[f"{kind}_replay"].append(took_replay)

    async def no_key(record: bool) -> None:
        took, response = await context.timed("POST", publish_path, json=publish_body, headers=tenant.headers)
        expect(response, 200)
        if record:
            samples["publish_no_key"].append(took)

    try:
        for _ in range(scale.warmup):
            await no_key(False)
            for kind in kinds:
                await pair(kind, False)
        for _ in range(scale.replay_reps):
            deadline.check("timing replays")
            await no_key(True)
            for kind in kinds:
                await pair(kind, True)
        ms = {kind: median(values) * 1000 for kind, values in samples.items()}
        result.add(
            "publish replayed (same key, same body)",
            ms["publish_replay"],
            "ms",
            "publish original (new key)",
            ms["publish_original"],
            note="1 target",
        )
        result.add(
            "content create replayed",
            ms["content_replay"],
            "ms",
            "content create original",
            ms["content_original"],
        )
        result.add(
            "publish original with a new key",
            ms["publish_original"],
            "ms",
            "publish without a key",
            ms["publish_no_key"],
            note="cost of storing the answer",
        )
        result.details["latency"] = {kind: summary_ms(values) for kind, values in samples.items()}
    finally:
        result.details["parked_posts"] = await context.park_undelivered()
    return result
