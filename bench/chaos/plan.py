"""The partner's load: batches of posts through /publish and /schedule, resends, cancels, and probe posts.

Every target carries a partner-chosen `scheduledPostId` that its caption repeats, so the audit can
find each post on the platforms by the sandbox's own records.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.chaos.api import Refused, describe, media
from bench.chaos.state import ChaosState
from bench.chaos.tenants import MUSIC, Account, Org, Planned
from crier.core.ids import new_id


class Traffic(ChaosState):
    async def _create_container(self, org: Org, media_type: str, token: str) -> str:
        body = {
            "projectId": org.project_id,
            "mediaType": media_type,
            "media": media(media_type, token),
            "caption": f"chaos container {token}",
        }
        response = await self.call(
            "POST", "/v1/content", headers=org.headers, json_body=body, key=f"chaos-content-{uuid.uuid4()}"
        )
        if response is None or response.status_code != 201:
            raise Refused("content", response)
        return response.json()["id"]

    # --- the load ----------------------------------------------------------------------------------
    def _plan_batch(self, size: int) -> tuple[Org, str, str, list[dict[str, Any]], list[Planned], str | None]:
        rng = self.rng
        org = self.orgs["A"] if rng.random() < 0.7 else self.orgs["B"]
        media_type = rng.choices(["video", "image", "multi"], weights=[5, 2.5, 2.5])[0]
        endpoint = "publish" if rng.random() < 0.6 else "schedule"
        options: list[tuple[Account, str]] = []
        weights: list[float] = []
        for account in org.accounts:
            if account.managed:
                options.append((account, "managed"))
                weights.append(2.0)
            elif account.platform == "tiktok":
                options += [(account, "publish"), (account, "draft")]
                weights += [3.0, 1.0]
            else:
                options += [(account, "publish"), (account, "draft")]
                weights += [3.0, 1.0 if org.verified_phone else 0.25]
        targets: list[dict[str, Any]] = []
        planned: list[Planned] = []
        draft_video_sp: str | None = None
        while len(targets) < size:
            account, mode = rng.choices(options, weights=weights)[0]
            if account.platform == "tiktok" and mode == "draft" and media_type == "video":
                # An inbox video carries no caption: the sandbox knows it by its video URL, which
                # names this post; one such target per container keeps that URL unique.
                if draft_video_sp is not None:
                    continue
            sp = new_id("sp")
            if account.platform == "tiktok" and mode == "draft" and media_type == "video":
                draft_video_sp = sp
            target: dict[str, Any] = {
                "socialAccountId": account.id,
                "mode": mode,
                "scheduledPostId": sp,
                "captionOverride": f"chaos {sp} b{self.batches} #crier",
            }
            if account.platform == "tiktok" and mode in ("publish", "managed"):
                if rng.random() < 0.3:
                    privacy = (
                        "FOLLOWER_OF_CREATOR"
                        if rng.random() < 0.06
                        else rng.choice(["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS"])
                    )  # FOLLOWER_OF_CREATOR: refused
                    target["tiktokPostSettings"] = {
                        "privacyLevel": privacy,
                        "disableComment": rng.random() < 0.3,
                    }
                if rng.random() < 0.25:
                    music = rng.choice(["none", "auto", "manual"])
                    target["tiktokMusic"] = (
                        {"mode": "manual", "trackId": rng.choice(MUSIC)["id"]}
                        if music == "manual"
                        else {"mode": music}
                    )
            if account.platform == "instagram" and mode == "publish":
                if media_type == "video" and rng.random() < 0.3:
                    target["shareReelToFeed"] = rng.random() < 0.5
                if rng.random() < 0.3:
                    target["firstCommentOverride"] = f"first comment of {sp}"
            targets.append(target)
            planned.append(Planned(sp, org.name, account.id, account.platform, mode, endpoint, media_type))
        return org, media_type, endpoint, targets, planned, draft_video_sp

    def _quota_burst_plan(self, size: int) -> tuple[Org, str, str, list[dict[str, Any]], list[Planned], None]:
        org = self.orgs["A"]
        account = next(a for a in org.accounts if a.platform == "tiktok" and not a.managed)
        targets, planned = [], []
        for _ in range(size):
            sp = new_id("sp")
            targets.append(
                {
                    "socialAccountId": account.id,
                    "mode": "publish",
                    "scheduledPostId": sp,
                    "captionOverride": f"chaos {sp} burst #crier",
                }
            )
            planned.append(Planned(sp, org.name, account.id, "tiktok", "publish", "publish", "video"))
        return org, "video", "publish", targets, planned, None

    async def publish_all(self) -> None:
        config = self.config
        window = config.window()
        started = time.monotonic()
        deadline = started + window + 240
        issued = 0
        in_flight: dict[int, int] = {}  # batch -> targets
        semaphore = asyncio.Semaphore(config.publish_concurrency)
        tasks: set[asyncio.Task] = set()
        self.event(f"publishing {config.posts} posts over ~{window:.0f} s")
        if config.quota_burst:
            # Quota pressure: more inits for one token than its per-window rate allows.
            self.batches += 1
            await self._run_batch(*self._quota_burst_plan(config.quota_burst))
            self.event(f"quota burst: {config.quota_burst} posts to one TikTok account in one publish")
        while time.monotonic() < deadline:
            confirmed = sum(1 for post_id in self.accepted if not self.planned[post_id].probe)
            outstanding = sum(in_flight.values())
            if confirmed + outstanding >= config.posts:
                if not in_flight:
                    break
                await asyncio.sleep(0.1)
                continue
            due = started + window * min(1.0, issued / max(1, config.posts))
            if time.monotonic() < due:
                await asyncio.sleep(min(0.05, due - time.monotonic()))
                continue
            size = min(self.rng.randint(1, 6), config.posts - confirmed - outstanding)
            self.batches += 1
            batch = self.batches
            plan = self._plan_batch(size)
            in_flight[batch] = size
            issued += size

            async def run(batch: int = batch, plan=plan) -> None:
                try:
                    async with semaphore:
                        await self._run_batch(*plan)
                except Exception as exc:
                    self.report.refused[f"harness {type(exc).__name__}"] += len(plan[4])
                finally:
                    in_flight.pop(batch, None)

            task = asyncio.create_task(run())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.publishing_done.set()
        self.event(f"publishing done: {len(self.accepted)} accepted in {self.batches} batches")

    async def _run_batch(
        self,
        org: Org,
        media_type: str,
        endpoint: str,
        targets: list[dict[str, Any]],
        planned: list[Planned],
        draft_video_sp: str | None,
    ) -> None:
        for post in planned:
            self.planned[post.id] = post
        try:
            container = await self._create_container(org, media_type, draft_video_sp or uuid.uuid4().hex[:12])
        except Refused as refused:
            self.report.refused[f"content {refused.label}"] += len(targets)
            return
        body: dict[str, Any] = {"targets": targets}
        if endpoint == "schedule":
            when = datetime.now(UTC) + timedelta(seconds=self.rng.uniform(6, 16))
            body["scheduledFor"] = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        key = f"chaos-{endpoint}-{uuid.uuid4()}"
        response = await self.call(
            "POST", f"/v1/content/{container}/{endpoint}", headers=org.headers, json_body=body, key=key
        )
        if response is None or response.status_code != 200:
            self.report.refused[f"{endpoint} {describe(response)}"] += len(targets)
            return
        ids = response.json().get("scheduledPostIds")
        expected = [post.id for post in planned]
        if ids != expected:
            self.report.id_mismatches.append(f"{endpoint} answered {ids} for {expected}")
        now = time.monotonic()
        for post_id in ids or []:
            self.accepted[post_id] = now
        if self.rng.random() < self.config.resend_share:
            # A partner whose answer got lost sends the same request again: replayed, nothing new.
            again = await self.call(
                "POST", f"/v1/content/{container}/{endpoint}", headers=org.headers, json_body=body, key=key
            )
            self.report.resends += 1
            if (
                again is None
                or again.status_code != 200
                or again.content != response.content
                or again.headers.get("idempotent-replayed") != "true"
            ):
                self.report.resend_mismatches.append(f"{endpoint} {key}: {describe(again)}")
        if endpoint == "schedule":
            for post_id in expected:
                if self.rng.random() < self.config.cancel_share:
                    self._background(self._cancel(org, post_id))

    async def _cancel(self, org: Org, post_id: str) -> None:
        await asyncio.sleep(self.rng.uniform(0.2, 3.0))
        response = await self.call("DELETE", f"/v1/scheduled-posts/{post_id}", headers=org.headers, budget=30)
        label = describe(response)
        self.report.cancels[label] += 1
        if response is not None and response.status_code == 200:
            self.cancel_ok.add(post_id)

    async def probe_publish(
        self, label: str, *, retry: bool = True, budget: float = 60.0
    ) -> tuple[str, httpx.Response | None, float]:
        """One TikTok post through /publish on the probe container; it joins the audited posts."""
        org = self.orgs["A"]
        account = next(a for a in org.accounts if a.platform == "tiktok" and not a.managed)
        sp = new_id("sp")
        self.planned[sp] = Planned(sp, "A", account.id, "tiktok", "publish", "publish", "video", probe=True)
        body = {
            "targets": [
                {
                    "socialAccountId": account.id,
                    "mode": "publish",
                    "scheduledPostId": sp,
                    "captionOverride": f"chaos probe {label} {sp}",
                }
            ]
        }
        began = time.monotonic()
        response = await self.call(
            "POST",
            f"/v1/content/{self.probe_container}/publish",
            headers=org.headers,
            json_body=body,
            key=f"chaos-probe-{uuid.uuid4()}",
            retry=retry,
            budget=budget,
        )
        took = time.monotonic() - began
        if response is not None and response.status_code == 200:
            self.accepted[sp] = time.monotonic()
        return sp, response, took
