"""Keyset history: a page deep in a project's history costs what the first page costs.

Fills a project of its own with `history_rows` scheduled posts in one `INSERT ... SELECT
generate_series` (terminal statuses, so no worker ever looks at them), then follows `nextCursor` once
to the position `history_deep_share` into the history (with limit=100: a cursor names a position, not
a page size, so the cursor after row 45,000 is the one page 900 of limit=50 hands out), and times
`GET /v1/projects/{id}/scheduled-posts?limit=50` for the first page and for that deep page, interleaved.
Also times full-text `q=` (a word in 10% of the captions, a word in 0.2%) against no `q`, and reads
the shared buffers PostgreSQL touches for the first and the deep page (EXPLAIN ANALYZE of the same
keyset query as crier.scheduled_posts.repository.page): a deterministic figure next to the timings.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench.bench_common import (
    BenchResult,
    Context,
    Deadline,
    add_project,
    expect,
    median,
    summary_ms,
)

NAME = "history"
TITLE = "Keyset history: page cost independent of depth; full-text q"
WORDS = ["sunrise", "harbor", "meadow", "citrus", "velvet", "orbit", "cobalt", "maple", "ember", "lagoon"]
COMMON_WORD = "harbor"  # in every 10th caption
RARE_WORD = "zephyrine"  # in every 500th caption
PAGE = 50


async def fill(
    context: Context, *, organization_id: str, project_id: str, container_id: str, account_id: str, rows: int
) -> float:
    """`rows` published posts, one a minute from 2025-01-01, captions from WORDS; returns seconds taken."""
    began = time.monotonic()
    await context.db.execute(
        """
        INSERT INTO scheduled_posts (id, organization_id, project_id, container_id, social_account_id,
                                     platform, mode, status, scheduled_for, caption_sent, attempted_at,
                                     published_at, external_id, external_url)
        SELECT 'sp_' || gen_random_uuid(), $1, $2, $3, $4, 'tiktok', 'publish', 'published',
               t.at, 'history post ' || g || ' ' || ($6::text[])[1 + g % 10] ||
                     CASE WHEN g % 500 = 0 THEN ' ' || $7 ELSE '' END || ' #crier',
               t.at + interval '1 second', t.at + interval '20 seconds', 'v' || g,
               'https://www.tiktok.com/@bench/video/v' || g
        FROM generate_series(1, $5) AS g,
             LATERAL (SELECT timestamptz '2025-01-01 00:00:00+00' + g * interval '1 minute' AS at) AS t
    """,
        organization_id,
        project_id,
        container_id,
        account_id,
        rows,
        WORDS,
        RARE_WORD,
    )
    await context.db.execute("ANALYZE scheduled_posts")
    return time.monotonic() - began


async def buffers(
    context: Context,
    *,
    organization_id: str,
    project_id: str,
    after: tuple[Any, str] | None,
    q: str | None = None,
) -> dict[str, Any]:
    """Shared buffers and server time of the history query (the shape repository.page builds)."""
    sql = (
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM scheduled_posts "
        "WHERE project_id = $1 AND organization_id = $2 {search} {keyset} "
        "ORDER BY scheduled_for, id LIMIT {limit}"
    )
    args: list[Any] = [project_id, organization_id]
    search = keyset = ""
    if q is not None:
        args.append(q)
        search = f"AND search_vector @@ websearch_to_tsquery('simple'::regconfig, ${len(args)})"
    if after is not None:
        keyset = f"AND (scheduled_for, id) > (${len(args) + 1}, ${len(args) + 2})"
        args += list(after)
    raw = await context.db.fetchval(sql.format(search=search, keyset=keyset, limit=PAGE + 1), *args)
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
    top = plan["Plan"]
    return {
        "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
        "execution_ms": plan.get("Execution Time", 0.0),
        "node": _scan_node(top),
    }


def _scan_node(node: dict[str, Any]) -> str:
    while node.get("Plans"):
        node = node["Plans"][0]
    return f"{node.get('Node Type')} {node.get('Index Name', '')}".strip()


async def run(context: Context) -> BenchResult:
    scale = context.scale
    deadline = Deadline(scale.budget_seconds, NAME)
    result = BenchResult(NAME, TITLE)
    tenant = await context.tenant()
    history = await add_project(context.stack, context.http, tenant, label="history")
    rows = scale.history_rows
    took = await fill(
        context,
        organization_id=tenant.organization_id,
        project_id=history.project_id,
        container_id=history.container_id,
        account_id=history.tiktok_ids[0],
        rows=rows,
    )
    result.details["rows"] = rows
    result.details["fill_seconds"] = round(took, 2)
    path = f"/v1/projects/{history.project_id}/scheduled-posts"

    async def page(**params: Any) -> tuple[float, dict[str, Any]]:
        took, response = await context.timed(
            "GET", path, params={"limit": PAGE, **params}, headers=tenant.headers
        )
        return took, expect(response, 200)

    # Follow the cursors once, to the deep position.
    deep_rows = int(rows * scale.history_deep_share) // 100 * 100
    cursor: str | None = None
    walked, walk_began = 0, time.monotonic()
    while walked < deep_rows:
        deadline.check("following cursors")
        params = {"limit": 100}
        if cursor:
            params["cursor"] = cursor
        body = expect(await context.http.get(path, params=params, headers=tenant.headers), 200)
        walked += len(body["items"])
        cursor = body["nextCursor"]
        if cursor is None:
            raise RuntimeError(f"the history ended after {walked} of {rows} rows")
    result.details["walk"] = {
        "rows": walked,
        "requests": walked // 100,
        "seconds": round(time.monotonic() - walk_began, 2),
    }
    deep_page = walked // PAGE + 1
    _, first_body = await page()
    _, deep_body = await page(cursor=cursor)
    if len(first_body["items"]) != PAGE or len(deep_body["items"]) != PAGE:
        raise RuntimeError("a history page came back short")
    if deep_body["items"][0]["scheduledFor"] <= first_body["items"][-1]["scheduledFor"]:
        raise RuntimeError("the deep page does not come after the first one")

    kinds: dict[str, dict[str, Any]] = {
        "first": {},
        "deep": {"cursor": cursor},
        "q_common": {"q": COMMON_WORD},
        "q_rare": {"q": RARE_WORD},
        "q_common_deep": {"q": COMMON_WORD, "cursor": cursor},
    }
    samples: dict[str, list[float]] = {kind: [] for kind in kinds}
    counts: dict[str, int] = {}
    for _ in range(scale.warmup):
        for params in kinds.values():
            await page(**params)
    for rep in range(scale.reps):
        deadline.check("timing pages")
        order = list(kinds.items()) if rep % 2 == 0 else list(reversed(kinds.items()))
        for kind, params in order:
            took, body = await page(**params)
            samples[kind].append(took)
            counts[kind] = len(body["items"])
    ms = {kind: median(values) * 1000 for kind, values in samples.items()}
    result.add(
        f"deep page (page {deep_page}, after row {walked:,}), median",
        ms["deep"],
        "ms",
        "first page",
        ms["first"],
        note="keyset: ratio ~1 whatever the depth",
    )
    result.add(
        f"q={COMMON_WORD} (10% of rows), first page", ms["q_common"], "ms", "first page, no q", ms["first"]
    )
    result.add(
        f"q={RARE_WORD} (0.2% of rows), first page",
        ms["q_rare"],
        "ms",
        "first page, no q",
        ms["first"],
        note=f"{counts.get('q_rare', 0)} items on the page",
    )
    result.add(f"q={COMMON_WORD}, deep cursor", ms["q_common_deep"], "ms", "first page, no q", ms["first"])

    from crier.scheduled_posts.service import decode_cursor

    where = {"organization_id": tenant.organization_id, "project_id": history.project_id}
    after = decode_cursor(cursor)
    plans = {
        "first": await buffers(context, **where, after=None),
        "deep": await buffers(context, **where, after=after),
        "q_common": await buffers(context, **where, after=None, q=COMMON_WORD),
        "q_rare": await buffers(context, **where, after=None, q=RARE_WORD),
        "q_common_deep": await buffers(context, **where, after=after, q=COMMON_WORD),
    }
    result.add(
        "shared buffers touched, deep page",
        plans["deep"]["buffers"],
        "blocks",
        "first page",
        plans["first"]["buffers"],
        note=f"EXPLAIN ANALYZE; scan: {plans['deep']['node']}",
    )
    result.add(
        f"shared buffers touched, q={RARE_WORD}",
        plans["q_rare"]["buffers"],
        "blocks",
        "first page, no q",
        plans["first"]["buffers"],
        note=f"scan: {plans['q_rare']['node']}",
    )
    result.details["latency"] = {kind: summary_ms(values) for kind, values in samples.items()}
    result.details["explain"] = plans
    result.details["deep_page"] = deep_page
    return result
