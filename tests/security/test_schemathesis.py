"""Schemathesis against a real `crier api` process: no 5xx, and every answer is one the document declares.

The server runs as a subprocess on the test database (as operators run it), with the rate limit off.
A tenant with real rows is built through the operator API first; hooks then swap generated ids for
real ones in about half of the cases, so fuzzing gets past the 404s into the services (publish to
real accounts, cancel real posts, operator writes into a real project). Every phase runs (examples,
coverage, fuzzing, and the stateful one: chains of calls linked by the ids one answer hands the next,
as schemathesis infers them from the document), in positive and negative mode, from a fixed seed.
`CRIER_FUZZ_EXAMPLES` (default 25 per operation) and `CRIER_FUZZ_SEED` widen or vary a local run.
What the fuzzing found is pinned in test_hostile_input.py.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis import checks

from crier.accounts.readiness import MANAGED_TEMPLATE_ID
from crier.tenancy.auth import SCOPES
from tests.support.servers import truncate_all

ROOT = Path(__file__).resolve().parents[2]
# Hypothesis caches what it learns under ./.hypothesis by default: keep the checkout clean.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "crier-hypothesis"))
ADMIN_TOKEN = f"fuzz-admin-{secrets.token_hex(8)}"
MAX_EXAMPLES = int(os.environ.get("CRIER_FUZZ_EXAMPLES", "25"))
STATEFUL_EXAMPLES = int(os.environ.get("CRIER_FUZZ_STATEFUL_EXAMPLES", "30"))
SEED = int(os.environ.get("CRIER_FUZZ_SEED", "20260501"))
MUSIC_TRACK = "8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999"


@dataclass
class Api:
    base_url: str
    log_path: Path

    def logged_errors(self, request_id: str) -> list[str]:
        """What the server logged at ERROR for one request: the message and the end of the traceback."""
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if request_id in line and '"level": "error"' in line:
                entry = json.loads(line)
                found.append(f"{entry['msg']}\n{entry.get('exc', '')[-2000:]}")
        return found


@dataclass
class Fuzz:
    """The tenant's real rows that generated cases are pointed at, and the headers that authenticate."""

    api: Api
    key: str
    organization: str
    project: str
    accounts: tuple[str, str, str]  # tiktok, instagram, managed
    containers: dict[str, str]
    posts: list[str]
    spare_key: str
    spare_account: str
    layer: str

    def headers_for(self, path: str) -> dict[str, str]:
        if path.startswith("/admin/"):
            return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        if path.startswith("/v1/"):
            return {"Authorization": f"Bearer {self.key}", "X-Api-Key": self.key}
        return {}


# The running module's tenant, for the hooks and the check below (set by the `fuzz` fixture).
_TENANT: dict[str, Fuzz] = {}


@schemathesis.check
def server_logged_no_error(ctx, response, case) -> None:
    """On a 5xx, fail with what the server logged for that request (found by its X-Request-Id)."""
    if response.status_code < 500 or "fuzz" not in _TENANT:
        return
    request_id = (response.headers.get("x-request-id") or ["?"])[0]
    logged = _TENANT["fuzz"].api.logged_errors(request_id) or ["(nothing)"]
    raise AssertionError(f"the server logged for {request_id}:\n" + "\n".join(logged))


CHECKS = [
    checks.not_a_server_error,
    checks.response_schema_conformance,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    server_logged_no_error,
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def crier_api(servers, tmp_path_factory) -> Iterator[Api]:
    """`python -m crier api` on a free port, against the test database and Redis."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("crier-api") / "api.log"
    env = {
        **os.environ,
        "DATABASE_URL": servers["database_url"],
        "REDIS_URL": servers["redis_url"],
        "CRIER_ADMIN_TOKEN": ADMIN_TOKEN,
        "CRIER_RATE_LIMIT_PER_MINUTE": "0",
        "CRIER_ENV": "test",
        "CRIER_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH")])
        ),
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "crier", "api", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    api = Api(f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + 30
        while not _healthy(api):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"crier api did not start (exit code {process.poll()}):\n{log_path.read_text()}")
            time.sleep(0.1)
        yield api
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _healthy(api: Api) -> bool:
    try:
        return httpx.get(f"{api.base_url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module", autouse=True)
async def clean_tables(servers):
    """The module fuzzes one tenant: truncate once after it, not after each test (as conftest does)."""
    yield
    await truncate_all()


@pytest.fixture(scope="module")
def fuzz(crier_api: Api) -> Iterator[Fuzz]:
    """An organization with a full-scope key, accounts of every kind, containers and scheduled posts."""
    with httpx.Client(base_url=crier_api.base_url, timeout=10) as http:

        def call(method: str, path: str, body: Any, key: str | None = None) -> dict[str, Any]:
            response = http.request(
                method, path, json=body, headers={"Authorization": f"Bearer {key or ADMIN_TOKEN}"}
            )
            assert response.status_code in (200, 201), response.text
            return response.json()

        organization = call(
            "POST",
            "/admin/v1/organizations",
            {
                "name": "Fuzz",
                "primaryOperatorPhone": "+15555550100",
                "primaryOperatorPhoneVerified": True,
            },
        )["id"]
        keys = f"/admin/v1/organizations/{organization}/api-keys"
        key = call("POST", keys, {"name": "fuzz", "scopes": list(SCOPES)})["key"]
        spare_key = call("POST", keys, {"name": "spare", "scopes": ["content:read"]})["id"]
        project = call("POST", f"/admin/v1/organizations/{organization}/projects", {"name": "Fuzz"})["id"]
        managed_config = {
            "provider": "acme",
            "baseUrl": "https://managed.example.com",
            "signingSecret": "fuzz-secret",
        }
        layer = call(
            "POST",
            f"/admin/v1/projects/{project}/layers",
            {"templateId": MANAGED_TEMPLATE_ID, "config": managed_config},
        )["id"]

        def account(platform: str, handle: str, **fields: Any) -> str:
            return call(
                "POST",
                f"/admin/v1/projects/{project}/social-accounts",
                {
                    "platform": platform,
                    "handle": handle,
                    "externalAccountId": f"{handle}-1",
                    "accessToken": f"act.{handle}",
                    **fields,
                },
            )["id"]

        tiktok = account(
            "tiktok", "creator", refreshToken="rft.creator", grantedScopes=["video.publish", "video.upload"]
        )
        instagram = account("instagram", "brand", instagramAccountType="business")
        managed = account("tiktok", "managed", grantedScopes=["video.publish"], layerId=layer)
        spare_account = account("tiktok", "spare")  # the one DELETE /admin/v1/social-accounts may disconnect
        call(
            "PUT",
            "/admin/v1/tiktok-music",
            {
                "items": [
                    {
                        "id": MUSIC_TRACK,
                        "title": "Song",
                        "artist": "Band",
                        "link": "https://www.tiktok.com/music/x-1",
                    }
                ]
            },
        )

        def content(media_type: str, count: int = 1, status: str = "completed") -> str:
            media = [
                {"url": f"https://cdn.example.com/fuzz/{i}.{'mp4' if media_type == 'video' else 'jpg'}"}
                for i in range(count)
            ]
            return call(
                "POST",
                "/v1/content",
                {
                    "projectId": project,
                    "mediaType": media_type,
                    "media": media,
                    "caption": "fuzz",
                    "status": status,
                },
                key,
            )["id"]

        containers = {
            "video": content("video"),
            "multi": content("multi", 3),
            "image": content("image"),
            "generating": content("video", status="generating"),
            "patch": content("video"),
            "review": content("image"),
            "review_too": content("video"),
        }
        targets = [
            {"socialAccountId": tiktok, "mode": "publish"},
            {"socialAccountId": instagram, "mode": "draft"},
            {"socialAccountId": managed, "mode": "managed"},
        ]
        posts = call(
            "POST",
            f"/v1/content/{containers['video']}/schedule",
            {"targets": targets, "scheduledFor": "2099-01-01T00:00:00Z"},
            key,
        )["scheduledPostIds"]
        posts += call(
            "POST",
            f"/v1/content/{containers['image']}/publish",
            {"targets": [{"socialAccountId": tiktok, "mode": "draft"}]},
            key,
        )["scheduledPostIds"]
    _TENANT["fuzz"] = Fuzz(
        crier_api,
        key,
        organization,
        project,
        (tiktok, instagram, managed),
        containers,
        posts,
        spare_key,
        spare_account,
        layer,
    )
    yield _TENANT["fuzz"]
    _TENANT.clear()


def _real_path_parameters(
    fuzz: Fuzz, method: str, path: str, names: set[str]
) -> dict[str, st.SearchStrategy]:
    """For each id in the path, a strategy over real rows that suit the operation."""
    containers = fuzz.containers
    if path.endswith(("/publish", "/schedule")):
        container_ids = [containers[name] for name in ("video", "multi", "image", "generating")]
    elif path.endswith(("/approve", "/reject")):
        container_ids = [containers[name] for name in ("review", "review_too", "generating")]
    elif method == "PATCH":  # its own container: a PATCH to "generating" must not block the publishes
        container_ids = [containers["patch"]]
    else:
        container_ids = list(containers.values())
    by_name = {
        "container_id": container_ids,
        "organization_id": [fuzz.organization],
        "project_id": [fuzz.project],
        "post_id": fuzz.posts,
        "key_id": [fuzz.spare_key],
        "account_id": [fuzz.spare_account],
    }
    return {name: st.sampled_from(by_name[name]) for name in names if name in by_name}


def _passable(target: dict[str, Any]) -> dict[str, Any]:
    """The target without the cross-field mistakes the document cannot express, so it gets further."""
    target = {
        name: value for name, value in target.items() if name not in ("scheduledPostId", "shareReelToFeed")
    }
    if target.get("mode") == "draft":
        target.pop("tiktokMusic", None)
    music = target.get("tiktokMusic")
    if isinstance(music, dict) and music.get("mode") == "manual":
        target["tiktokMusic"] = {**music, "trackId": MUSIC_TRACK}
    return target


def _real_body(fuzz: Fuzz, method: str, path: str, body: Any) -> st.SearchStrategy | None:
    """The same body with real ids (and valid media URLs, a future time) put in, or None."""
    if not isinstance(body, dict):
        return None
    if path.endswith(("/publish", "/schedule")) and isinstance(body.get("targets"), list):
        targets = [_passable(target) for target in body["targets"] if isinstance(target, dict)][:3]
        tiktok, instagram, managed = fuzz.accounts
        accounts = st.tuples(
            *[
                st.just(managed) if target.get("mode") == "managed" else st.sampled_from([tiktok, instagram])
                for target in targets
            ]
        )
        later = {"scheduledFor": "2099-06-01T12:00:00Z"} if path.endswith("/schedule") else {}
        return accounts.map(
            lambda chosen: {
                **body,
                **later,
                "targets": [
                    {**target, "socialAccountId": account}
                    for target, account in zip(targets, chosen, strict=True)
                ],
            }
        )
    if path == "/v1/content" or (method == "PATCH" and path.startswith("/v1/content/")):
        real = {**body, "projectId": fuzz.project} if method == "POST" else dict(body)
        if isinstance(body.get("media"), list):
            real["media"] = [
                {"url": f"https://cdn.example.com/fuzz/{i}.mp4"} for i in range(len(body["media"]))
            ]
        return st.just(real)
    if method == "POST" and path.endswith("/social-accounts") and "layerId" in body:
        return st.just({**body, "layerId": fuzz.layer})
    return None


def _openapi_document() -> dict[str, Any]:
    """The document `crier api` serves (a test below checks the server serves exactly this one).

    Built from the app at import because schemathesis's eager `parametrize` needs the operations
    while pytest collects (its lazy `from_fixture` fails on pytest 9.2: it sets `Function._nodeid`).
    """
    from crier.app import create_app

    return create_app().openapi()


DOCUMENT = _openapi_document()
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "database": "none",
                "with-security-parameters": False,
            },
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half of the cases name real rows, so they get past the 404 into the service."""
    fuzz, operation = _TENANT.get("fuzz"), context.operation
    if fuzz is None or not path_parameters:  # the examples phase draws while pytest collects
        return st.just(path_parameters)
    real = _real_path_parameters(fuzz, operation.method.upper(), operation.path, set(path_parameters))
    if not real:
        return st.just(path_parameters)
    with_real_ids = st.fixed_dictionaries(real).map(lambda ids: {**path_parameters, **ids})
    return st.one_of(st.just(path_parameters), with_real_ids)


@schema.hook
def flatmap_body(context, body):
    """Half of the bodies name real rows too (real accounts in publish targets, a real project)."""
    fuzz, operation = _TENANT.get("fuzz"), context.operation
    real = None if fuzz is None else _real_body(fuzz, operation.method.upper(), operation.path, body)
    return st.just(body) if real is None else st.one_of(st.just(body), real)


# The same document and hooks for the stateful phase, which pytest's parametrize cannot drive.
stateful_schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "database": "none", "with-security-parameters": False},
            "phases": {"stateful": {"enabled": True}},
        }
    ),
)
stateful_schema.hook(flatmap_path_parameters)
stateful_schema.hook(flatmap_body)


def test_the_server_serves_the_fuzzed_document(fuzz):
    assert httpx.get(f"{fuzz.api.base_url}/openapi.json").json() == json.loads(json.dumps(DOCUMENT))


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_operation_answers_as_documented(case, fuzz):
    headers = fuzz.headers_for(case.operation.path)
    response = case.call(base_url=fuzz.api.base_url, headers=headers, timeout=15)
    case.validate_response(response, checks=CHECKS)


def test_chains_of_calls_answer_as_documented(fuzz):
    """The stateful phase: create → read → patch → publish → cancel ..., each answer feeding the next call."""
    Workflow = stateful_schema.as_state_machine()

    class CrierWorkflow(Workflow):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            return {
                "base_url": fuzz.api.base_url,
                "headers": fuzz.headers_for(case.operation.path),
                "timeout": 15,
            }

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    assert Workflow.bundles, "schemathesis found no links between operations to chain"
    # A link's next call is drawn from the live answer before it (an empty page leaves nothing to
    # follow, so the parameter is generated instead). When two chains share a prefix but the server
    # answered differently, Hypothesis stops with FlakyStrategyDefinition: a fact about our live
    # server's changing state, not a wrong answer. Only that is retried, with fresh draws; any check
    # that fails is raised at once.
    for attempt in range(3):
        try:
            CrierWorkflow.run(
                settings=settings(
                    max_examples=STATEFUL_EXAMPLES,
                    stateful_step_count=6,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    database=None,
                    derandomize=attempt == 0,
                    # No shrinking: replayed against a server whose state has moved on, a failing chain
                    # draws differently; reported unshrunk, it shows what the API answered.
                    phases=[Phase.explicit, Phase.generate],
                )
            )
            return
        except FlakyStrategyDefinition:
            if attempt == 2:
                raise
