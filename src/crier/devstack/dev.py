"""`make dev`: PostgreSQL + Redis (embedded unless configured), the sandbox, the API and a worker.

Everything runs as child processes in their own process groups, so Ctrl-C stops all of them and
the embedded servers, leaving nothing behind.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from crier.core.stackfile import data_dir, remove_stack, write_stack
from crier.devstack.embedded import EmbeddedPostgres, EmbeddedRedis
from crier.sandbox.wiring import platform_env

DATA_DIR = data_dir()


def wait_http(url: str, seconds: float = 30, *, still_alive: Callable[[], None] | None = None) -> None:
    """Wait until `url` answers below 500; `still_alive` may raise to stop waiting on a dead process."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if still_alive is not None:
            still_alive()
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def _admin_token() -> str:
    path = DATA_DIR / "admin-token"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip()


def _spawn(name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    print(f"  starting {name}: crier {' '.join(args)}", flush=True)
    return subprocess.Popen([sys.executable, "-m", "crier", *args], env=env, start_new_session=True)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _development_env(env: dict[str, str]) -> None:
    """`make dev` is development whatever `.env` says: a production `.env` (docker compose's) is skipped."""
    from dotenv import dotenv_values

    from crier.core.settings import env_file

    dotenv = env_file()
    if (
        dotenv
        and Path(dotenv).is_file()
        and (dotenv_values(dotenv).get("CRIER_ENV") or "").strip() == "production"
    ):
        print(
            f"  ignoring {dotenv}: it is a production configuration (CRIER_ENV=production, for docker compose)",
            flush=True,
        )
        env["CRIER_DOTENV"] = "none"
    env["CRIER_ENV"] = "development"
    os.environ.update({name: env[name] for name in ("CRIER_ENV", "CRIER_DOTENV") if name in env})


def run_dev(*, api_port: int, sandbox_port: int) -> int:
    env = dict(os.environ)
    _development_env(env)
    embedded: list[EmbeddedPostgres | EmbeddedRedis] = []
    processes: list[subprocess.Popen[bytes]] = []
    # SIGTERM (e.g. from a supervisor) gets the same clean shutdown as Ctrl-C.
    # SIGINT too: a shell starting `make dev` in the background leaves SIGINT ignored otherwise.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        if not env.get("DATABASE_URL"):
            postgres = EmbeddedPostgres(DATA_DIR / "postgres")
            env["DATABASE_URL"] = postgres.start()
            embedded.append(postgres)
            print(f"  embedded PostgreSQL: {env['DATABASE_URL']}")
        if not env.get("REDIS_URL"):
            redis = EmbeddedRedis(DATA_DIR / "redis")
            env["REDIS_URL"] = redis.start()
            embedded.append(redis)
            print(f"  embedded Redis: {env['REDIS_URL']}")
        sandbox = f"http://127.0.0.1:{sandbox_port}"
        env.setdefault("CRIER_ADMIN_TOKEN", _admin_token())
        # `make dev` is the sandbox's: every adapter points at it, whatever the shell has set.
        env.update(platform_env(sandbox))
        # The platforms send the browser back to the API's own callback, on loopback.
        env["CRIER_PUBLIC_URL"] = f"http://127.0.0.1:{api_port}"
        subprocess.run([sys.executable, "-m", "crier", "migrate"], env=env, check=True)
        processes.append(_spawn("sandbox", ["sandbox", "--port", str(sandbox_port)], env))
        wait_http(f"{sandbox}/_sandbox/records")
        # TikTok's per-token rates as the real platform enforces them; the worker paces for them.
        httpx.post(f"{sandbox}/_sandbox/config", json={"tiktokRateWindowSeconds": 60}).raise_for_status()
        demo = _create_demo_tenant(env, sandbox)
        processes.append(_spawn("api", ["api", "--port", str(api_port)], env))
        processes.append(_spawn("worker", ["worker"], env))
        api = f"http://127.0.0.1:{api_port}"
        wait_http(f"{api}/healthz")
        connect = demo_oauth_url(api, sandbox, demo)
        write_stack(
            {
                "api": api,
                "sandbox": sandbox,
                "adminToken": env["CRIER_ADMIN_TOKEN"],
                "workerMetrics": f"http://127.0.0.1:{env.get('CRIER_WORKER_METRICS_PORT', '9100')}/metrics",
                "organizationId": demo["organization_id"],
                "projectId": demo["project_id"],
                # What `crier admin` needs to reach this stack's PostgreSQL and Redis (core/stackfile.py).
                "env": {
                    name: env[name]
                    for name in ("DATABASE_URL", "REDIS_URL", "CRIER_ENV", "CRIER_DOTENV")
                    if name in env
                },
            }
        )
        _print_welcome(
            api,
            sandbox,
            env["CRIER_ADMIN_TOKEN"],
            demo,
            connect,
            worker_metrics=f"http://127.0.0.1:{env.get('CRIER_WORKER_METRICS_PORT', '9100')}/metrics",
        )
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        print("a child process exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping Crier...", flush=True)
        return 0
    finally:
        remove_stack()
        _stop(processes)
        for server in reversed(embedded):
            server.stop()


def _create_demo_tenant(env: dict[str, str], sandbox: str) -> dict[str, str]:
    """A fresh demo organization on every start (keys are shown once, so a new one each time)."""
    os.environ.update(env)
    from crier.core import settings

    settings.get_settings.cache_clear()
    from crier.devstack.demo import create_demo_tenant

    demo = asyncio.run(
        create_demo_tenant(managed_base_url=f"{sandbox}/managed", webhook_url=f"{sandbox}/webhooks/demo")
    )
    # The receiver verifies signatures with the secret it is told (a partner stores it the same way).
    httpx.post(
        f"{sandbox}/_sandbox/webhooks/demo", json={"secrets": [demo["webhook_secret"]]}, timeout=5
    ).raise_for_status()
    return demo


def demo_oauth_url(api: str, sandbox: str, demo: dict[str, str], platform: str = "tiktok") -> dict[str, str]:
    """An authorize URL for the demo project; the sandbox's partner page stands in for the partner's app."""
    response = httpx.post(
        f"{api}/v1/projects/{demo['project_id']}/social/oauth-url",
        headers={"Authorization": f"Bearer {demo['key']}"},
        json={"platform": platform, "returnUrl": f"{sandbox}/_sandbox/partner/connected"},
    )
    response.raise_for_status()
    answer: dict[str, str] = response.json()
    return answer


def _print_welcome(
    api: str,
    sandbox: str,
    admin_token: str,
    demo: dict[str, str],
    connect: dict[str, str],
    *,
    worker_metrics: str,
) -> None:
    auth = f'-H "Authorization: Bearer {demo["key"]}"'
    connect_body = f'{{"platform":"tiktok","returnUrl":"{sandbox}/_sandbox/partner/connected"}}'
    print(
        f"""
Crier is running.
  API        {api}   (OpenAPI docs: {api}/docs, metrics: {api}/metrics)
  sandbox    {sandbox}   (fake TikTok / Instagram / Twilio / managed provider; records: {sandbox}/_sandbox/records)
  operator   Authorization: Bearer {admin_token}
  worker     metrics: {worker_metrics}

Demo organization {demo["organization_id"]}, project {demo["project_id"]}, API key (shown once):
  {demo["key"]}

Publish the demo video to the demo TikTok account @{demo["tiktok_handle"]}:
  curl -s -X POST {api}/v1/content/{demo["container_id"]}/publish {auth} -H "Content-Type: application/json" -d '{{"targets":[{{"socialAccountId":"{demo["tiktok_account_id"]}","mode":"publish"}}]}}'

Then watch it land (use the id from the answer):
  curl -s {api}/v1/scheduled-posts/<scheduledPostId> {auth}

Webhooks: endpoint {demo["webhook_endpoint_id"]} sends every event of the demo organization to the
sandbox's receiver, which checks each X-Layers-Signature. Watch them arrive (signatureValid: true):
  curl -s {sandbox}/_sandbox/webhooks?name=demo
and the deliveries log:
  curl -s {api}/v1/webhook-endpoints/{demo["webhook_endpoint_id"]}/deliveries {auth}

Instagram account: {demo["instagram_account_id"]}   managed-mode account: {demo["managed_account_id"]}
Operator commands find this stack by themselves (.data/dev-stack.json), e.g. in another shell:
  .venv/bin/crier admin post list --status failed

Connect an account by OAuth: open this in a browser (valid 10 minutes, single use). The sandbox's
TikTok consent page approves at once and the browser lands on a stand-in partner page:
  {connect["authorizeUrl"]}
Then list the project's accounts (the new one is `connected`):
  curl -s {api}/v1/projects/{demo["project_id"]}/social-accounts {auth}
A fresh URL ("platform":"instagram" works too; POST {sandbox}/_sandbox/config {{"oauthConsent":"page"}} shows buttons):
  curl -s -X POST {api}/v1/projects/{demo["project_id"]}/social/oauth-url {auth} -H "Content-Type: application/json" -d '{connect_body}'
Press Ctrl-C to stop.
""",
        flush=True,
    )
