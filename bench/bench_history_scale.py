"""History cost at 10k and 1M rows in one project: every filter, first page and a deep page.

Two projects of their own, filled in one `INSERT ... SELECT generate_series` each (terminal statuses, so
no worker ever looks at them): `history_scale_rows` posts, one a minute. In each, every rare filter
value matches the same number of rows (`history_scale_matches`, spread evenly over the history), so a
page costs the same work whatever the project's size, if and only if the query reaches the matches
through an index instead of walking the project:

  status=failed, platform=instagram, mode=draft, socialAccountId=<a rarely used account>,
  containerId=<a rarely used container>, from/to=<a window holding as many rows>, q=<a rare word>

Each is timed (median over `history_scale_reps` GETs of `/v1/projects/{id}/scheduled-posts?limit=50`, both projects
interleaved) on its first page and on its third (the cursor the API handed out after 100 matches), and
so are the unfiltered first page and a page 90 % deep. Every figure is the large project's median
against the small one's: the target is a ratio within 0.8–1.2. `details.explain` has the plan of each
(the statement crier.scheduled_posts.repository builds, EXPLAIN ANALYZE with buffers).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from typing import Any

from bench.bench_common import (
    BenchResult,
    Context,
    Deadline,
    Tenant,
    add_project,
    create_container,
    expect,
    median,
)

NAME = "history_scale"
EXTRA_SECONDS = 300  # filling a million rows takes its own while
TITLE = "History cost from 10k to 1M rows in a project: every filter, first and deep page"
PAGE = 50
RARE_WORD = "quokkarine"
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
# The position (g % step) of each rare value's rows; 0 is left to the common rows.
SLOTS = {"status": 1, "platform": 2, "mode": 3, "socialAccountId": 4, "containerId": 5, "q": 6}


async def fill(
    context: Context,
    project: Tenant,
    *,
    rows: int,
    step: int,
    instagram_id: str,
    rare_account_id: str,
    rare_container_id: str,
) -> float:
    """`rows` posts one a minute from START; each rare value on the rows where g % step is its slot."""
    began = time.monotonic()
    s = SLOTS
    await context.db.execute(
        f"""
        INSERT INTO scheduled_posts (id, organization_id, project_id, container_id, social_account_id,
                                     platform, mode, status, scheduled_for, caption_sent, attempted_at,
                                     published_at, external_id)
        SELECT 'sp_' || gen_random_uuid(), $1, $2,
               CASE WHEN g % $5 = {s["containerId"]} THEN $8 ELSE $3 END,
               CASE WHEN g % $5 = {s["platform"]} THEN $6 WHEN g % $5 = {s["socialAccountId"]} THEN $7 ELSE $4 END,
               CASE WHEN g % $5 = {s["platform"]} THEN 'instagram' ELSE 'tiktok' END,
               CASE WHEN g % $5 = {s["mode"]} THEN 'draft' ELSE 'publish' END,
               CASE WHEN g % $5 = {s["status"]} THEN 'failed' WHEN g % $5 = {s["mode"]} THEN 'draft'
                    ELSE 'published' END,
               t.at,
               'scale post ' || g || CASE WHEN g % $5 = {s["q"]} THEN ' ' || $10 ELSE ' sunrise harbor' END,
               t.at + interval '1 second', t.at + interval '20 seconds', 'v' || g
        FROM generate_series(1, $9) AS g,
             LATERAL (SELECT $11::timestamptz + g * interval '1 minute' AS at) AS t
    """,
        project.organization_id,
        project.project_id,
        project.container_id,
        project.tiktok_ids[0],
        step,
        instagram_id,
        rare_account_id,
        rare_container_id,
        rows,
        RARE_WORD,
        START,
    )
    return time.monotonic() - began


async def prepare(context: Context, tenant: Tenant, rows: int, matches: int) -> dict[str, Any]:
    """A filled project and the query parameters of every figure (cursors included)."""
    project = await add_project(context.stack, context.http, tenant, tiktok_accounts=2, label=f"scale{rows}")
    admin = {"Authorization": f"Bearer {context.stack.admin_token}"}
    instagram = expect(
        await context.http.post(
            f"/admin/v1/projects/{project.project_id}/social-accounts",
            headers=admin,
            json={
                "platform": "instagram",
                "handle": f"scale{rows}",
                "externalAccountId": f"1784{rows}",
                "accessToken": "IGQ-bench",
                "instagramAccountType": "business",
            },
        ),
        200,
        201,
    )
    rare_container = await create_container(context.http, tenant.headers, project.project_id)
    step = max(7, rows // matches)
    took = await fill(
        context,
        project,
        rows=rows,
        step=step,
        instagram_id=instagram["id"],
        rare_account_id=project.tiktok_ids[1],
        rare_container_id=rare_container,
    )
    window_from = START + dt.timedelta(minutes=rows // 2)
    window_to = window_from + dt.timedelta(minutes=rows // step)  # as many rows as each rare value has
    filters = {
        "status": {"status": "failed"},
        "platform": {"platform": "instagram"},
        "mode": {"mode": "draft"},
        "socialAccountId": {"socialAccountId": project.tiktok_ids[1]},
        "containerId": {"containerId": rare_container},
        "from/to": {"from": _wire(window_from), "to": _wire(window_to)},
        "q": {"q": RARE_WORD},
    }
    return {
        "project": project,
        "rows": rows,
        "step": step,
        "fill_seconds": round(took, 1),
        "filters": filters,
    }


def _wire(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def kinds_of(
    context: Context, tenant: Tenant, prepared: dict[str, Any], deep_share: float
) -> dict[str, dict]:
    """{figure kind: query params}: unfiltered first/deep, and each filter's first and third page."""
    from crier.scheduled_posts.service import encode_cursor

    project: Tenant = prepared["project"]
    path = f"/v1/projects/{project.project_id}/scheduled-posts"
    # The unfiltered deep cursor straight from the table: walking 900k rows through the API takes minutes,
    # and a cursor is nothing but the last row's (scheduledFor, id).
    row = await context.db.fetchrow(
        "SELECT scheduled_for, id FROM scheduled_posts WHERE project_id = $1 ORDER BY scheduled_for, id "
        "OFFSET $2 LIMIT 1",
        project.project_id,
        int(prepared["rows"] * deep_share) - 1,
    )
    kinds: dict[str, dict] = {
        "first page": {},
        f"page {deep_share:.0%} deep": {"cursor": encode_cursor(row["scheduled_for"], row["id"])},
    }
    for name, params in prepared["filters"].items():
        kinds[f"{name}, first page"] = dict(params)
        cursor = None
        for _ in range(2):  # the third page starts after 100 matches: the API's own cursors
            body = expect(
                await context.http.get(
                    path,
                    params={"limit": PAGE, **params, **({"cursor": cursor} if cursor else {})},
                    headers=tenant.headers,
                ),
                200,
            )
            cursor = body["nextCursor"]
            if cursor is None:
                raise RuntimeError(
                    f"{name}: fewer than {2 * PAGE + 1} matches in a {prepared['rows']}-row project"
                )
        kinds[f"{name}, third page"] = {**params, "cursor": cursor}
    return kinds


async def explain(
    context: Context, tenant: Tenant, project: Tenant, params: dict[str, Any]
) -> dict[str, Any]:
    """Plan of the repository's own history statement for these params (literal values)."""
    from sqlalchemy.dialects import postgresql

    from crier.scheduled_posts import repository
    from crier.scheduled_posts.schemas import Filters
    from crier.scheduled_posts.service import decode_cursor

    filters = Filters(
        status=params.get("status"),
        platform=params.get("platform"),
        mode=params.get("mode"),
        container_id=params.get("containerId"),
        social_account_id=params.get("socialAccountId"),
        scheduled_from=params.get("from"),
        scheduled_to=params.get("to"),
        q=params.get("q"),
    )
    after = decode_cursor(params["cursor"]) if "cursor" in params else None
    statement = repository.page_statement(
        organization_id=tenant.organization_id,
        project_id=project.project_id,
        filters=filters,
        after=after,
        limit=PAGE + 1,
    )
    sql = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    raw = await context.db.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]
    top = plan["Plan"]
    return {
        "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
        "execution_ms": round(plan.get("Execution Time", 0.0), 3),
        "scans": sorted(_scans(top)),
    }


def _scans(node: dict[str, Any]) -> set[str]:
    found = set()
    if "Scan" in node.get("Node Type", ""):
        found.add(f"{node['Node Type']} {node.get('Index Name', node.get('Relation Name', ''))}".strip())
    for child in node.get("Plans", []):
        found |= _scans(child)
    return found


async def run(context: Context) -> BenchResult:
    scale = context.scale
    deadline = Deadline(scale.budget_seconds + EXTRA_SECONDS, NAME)
    result = BenchResult(NAME, TITLE)
    tenant = await context.tenant()
    small_rows, large_rows = scale.history_scale_rows
    prepared = {}
    for label, rows in (("small", small_rows), ("large", large_rows)):
        context.log(f"bench: {NAME}: filling a project with {rows:,} posts ...")
        prepared[label] = await prepare(context, tenant, rows, scale.history_scale_matches)
    await context.db.execute("ANALYZE scheduled_posts")
    kinds = {
        label: await kinds_of(context, tenant, prepared[label], scale.history_deep_share)
        for label in prepared
    }
    paths = {
        label: f"/v1/projects/{prepared[label]['project'].project_id}/scheduled-posts" for label in prepared
    }

    async def timed(label: str, params: dict[str, Any]) -> float:
        took, response = await context.timed(
            "GET", paths[label], params={"limit": PAGE, **params}, headers=tenant.headers
        )
        items = expect(response, 200)["items"]
        if not items:
            raise RuntimeError(f"{label} project: an empty page for {params}")
        return took

    samples: dict[tuple[str, str], list[float]] = {}
    names = list(kinds["small"])
    for _ in range(scale.warmup):
        for name in names:
            for label in prepared:
                await timed(label, kinds[label][name])
    for rep in range(scale.history_scale_reps):
        deadline.check("timing pages")
        for name in names:
            for label in ("small", "large") if rep % 2 == 0 else ("large", "small"):
                samples.setdefault((label, name), []).append(await timed(label, kinds[label][name]))
    plans: dict[str, dict[str, Any]] = {}
    for name in names:
        small = median(samples[("small", name)]) * 1000
        large = median(samples[("large", name)]) * 1000
        result.add(
            f"history {name}, {large_rows:,} vs {small_rows:,} rows",
            large,
            "ms",
            f"{small_rows:,}-row project",
            small,
            note="target: ratio 0.80-1.20",
        )
        plans[name] = {
            label: await explain(context, tenant, prepared[label]["project"], kinds[label][name])
            for label in prepared
        }
    result.details["projects"] = {
        label: {"rows": p["rows"], "step": p["step"], "fill_seconds": p["fill_seconds"]}
        for label, p in prepared.items()
    }
    result.details["explain"] = plans
    await asyncio.sleep(0)
    return result
