"""End-to-end harness: a partner drives the public API, the real `crier worker` delivers, the sandbox listens.

- The API runs in process (the suite's `client`), exactly as partners call it.
- The worker is the arq-hosted `crier worker` (create_crier_worker → startup → DeliveryLoop with the
  real adapters), its settings pointing every platform at the sandbox. It runs the API's wake-up
  jobs (arq, through Redis) and sweeps PostgreSQL every 0.1 s. One worker and one sandbox serve the whole folder; each
  test starts with the sandbox reset.
- The sandbox (crier.sandbox) serves all four fakes on a loopback port. Tests read what it created
  from GET /_sandbox/records, and the raw requests from a wire tap in front of it (the headers and
  form fields the records do not keep: Idempotency-Key, X-Crier-Signature, Graph parameters).
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from crier.core.settings import Settings, get_settings
from crier.delivery import worker as crier_worker
from crier.sandbox.app import create_app as create_sandbox_app
from crier.sandbox.wiring import platform_settings
from tests.e2e.support import MANAGED_SECRET, Partner, Sandbox, WireTap
from tests.support.factories import Tenant

SANDBOX_PROCESSING_SECONDS = 0.05  # how long TikTok uploads, IG containers and dispatches stay pending
SWEEP_SECONDS = 0.1
RECONCILE_WINDOW_SECONDS = 0.5


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # arq 0.28 calls redis-py's deprecated close(); not ours to fix (as in tests/delivery/test_worker.py).
    for item in items:
        if "tests/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"))


@pytest.fixture(scope="package")
async def sandbox() -> AsyncIterator[Sandbox]:
    """The sandbox on a free loopback port, served by uvicorn in the tests' event loop."""
    tap = WireTap(create_sandbox_app(processing_seconds=SANDBOX_PROCESSING_SECONDS))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(tap, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield Sandbox(f"http://127.0.0.1:{listener.getsockname()[1]}", tap)
    finally:
        server.should_exit = True
        await serving
        listener.close()


def worker_settings(sandbox_url: str, **changes: Any) -> Settings:
    """The test settings with every platform pointed at the sandbox and delivery tuned for speed."""
    return get_settings().model_copy(
        update={
            **platform_settings(sandbox_url),
            "platform_timeout_seconds": 5,
            "worker_sweep_interval_seconds": SWEEP_SECONDS,
            # the sandbox shows a post at once: absence is proven after a short window
            "reconcile_window_seconds": RECONCILE_WINDOW_SECONDS,
            **changes,
        }
    )


@pytest.fixture(scope="package")
async def worker(sandbox: Sandbox, redis_url: str) -> AsyncIterator[crier_worker.CrierWorker]:
    """`crier worker` (arq + the delivery loop with the real adapters) delivering to the sandbox."""
    ctx = {"settings": worker_settings(sandbox.url), "shutdown_grace_seconds": 2}
    arq_worker = crier_worker.create_crier_worker(handle_signals=False, ctx=ctx)
    running = asyncio.create_task(arq_worker.async_run())
    try:
        yield arq_worker
    finally:
        arq_worker.handle_sig(signal.SIGTERM)  # what arq does on SIGTERM: cancel main, then close()
        await asyncio.gather(running, return_exceptions=True)
        await arq_worker.close()


@pytest.fixture(autouse=True)
async def quiet_sandbox(sandbox: Sandbox, worker: crier_worker.CrierWorker) -> None:
    """Every test starts with the worker running and a sandbox that has heard nothing."""
    await sandbox.reset()


@pytest.fixture
def partner(client, tenant) -> Partner:
    """The tenant's partner app: TikTok @creator (video.publish + video.upload), Instagram business @brand,
    and an organization whose primary operator phone is verified."""
    return Partner(client, tenant)


@pytest.fixture
async def unverified_phone_partner(client, admin) -> Partner:
    """A partner whose organization's primary operator phone is not verified."""
    organization = await admin.organization(
        primaryOperatorPhone="+15555550123", primaryOperatorPhoneVerified=False
    )
    project = await admin.project(organization["id"])
    key = await admin.api_key(organization["id"])
    tiktok = await admin.tiktok_account(project["id"])
    instagram = await admin.instagram_account(project["id"])
    return Partner(client, Tenant(client, organization, project, key, tiktok, instagram))


@dataclass
class ManagedAccounts:
    layer: dict[str, Any]
    tiktok: dict[str, Any]
    instagram: dict[str, Any]

    def __getitem__(self, platform: str) -> dict[str, Any]:
        return {"tiktok": self.tiktok, "instagram": self.instagram}[platform]


@pytest.fixture
async def managed(admin, tenant, sandbox: Sandbox, monkeypatch) -> ManagedAccounts:
    """A managed-distribution layer whose provider is the sandbox, holding a TikTok and an Instagram account.

    The operator API refuses loopback provider URLs unless the host is allow-listed (as an operator
    allow-lists a provider on their LAN): the allow-list is set for this test only.
    """
    monkeypatch.setattr(get_settings(), "url_allowlist", ["127.0.0.1"])
    project_id = tenant.project["id"]
    layer = await admin.managed_layer(
        project_id, base_url=f"{sandbox.url}/managed", secret=MANAGED_SECRET, provider="sandbox"
    )
    tiktok = await admin.tiktok_account(
        project_id, layerId=layer["id"], handle="managed_tt", externalAccountId="tt-managed-1"
    )
    instagram = await admin.instagram_account(
        project_id, layerId=layer["id"], handle="managed_ig", externalAccountId="17841400000000777"
    )
    return ManagedAccounts(layer, tiktok, instagram)


@pytest.fixture
async def track(admin) -> dict[str, str]:
    """One track in the TikTok music catalog (PUT /admin/v1/tiktok-music)."""
    item = {
        "id": "8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999",
        "title": "Sandbox Song",
        "artist": "The Fakes",
        "link": "https://music.example.com/tracks/sandbox-song",
    }
    await admin.music([item])
    return item
