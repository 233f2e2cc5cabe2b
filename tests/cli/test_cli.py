"""`crier` from a shell (issue 12): finds the `make dev` stack, answers every mistake with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PRODUCTION_DOTENV = "CRIER_ENV=production\nCRIER_ADMIN_TOKEN=changeme\nCRIER_ENCRYPTION_KEYS=changeme\n"


def crier(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """Run `crier` in `cwd` with the harness's servers unset unless given (as on a fresh shell)."""
    base = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DATABASE_URL", "REDIS_URL", "CRIER_ENV", "CRIER_ADMIN_TOKEN", "CRIER_DATA_DIR")
    }
    return subprocess.run(
        [sys.executable, "-m", "crier", *args],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line_error(result: subprocess.CompletedProcess, exit_code: int) -> str:
    assert result.returncode == exit_code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def write_stack(folder: Path, *, pid: int, env: dict[str, str]) -> None:
    (folder / ".data").mkdir(exist_ok=True)
    (folder / ".data" / "dev-stack.json").write_text(json.dumps({"pid": pid, "env": env}))


@pytest.fixture
def database(servers) -> dict[str, str]:
    return {"DATABASE_URL": servers["database_url"], "REDIS_URL": servers["redis_url"]}


async def test_admin_finds_the_running_make_dev_stack_despite_a_production_dotenv(tmp_path, database, admin):
    organization = await admin.organization("Found")
    (tmp_path / ".env").write_text(PRODUCTION_DOTENV)
    write_stack(
        tmp_path, pid=os.getpid(), env={**database, "CRIER_ENV": "development", "CRIER_DOTENV": "none"}
    )

    result = crier("admin", "org", "list", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert [org["id"] for org in json.loads(result.stdout)] == [organization["id"]]


def test_without_database_url_or_a_running_stack_it_is_a_config_problem(tmp_path):
    write_stack(tmp_path, pid=2**22 + 12345, env={"DATABASE_URL": "postgresql://gone"})  # no such process

    line = one_line_error(crier("admin", "org", "list", cwd=tmp_path), 2)

    assert line.startswith("crier: config problem: DATABASE_URL is not set and no `make dev` is running")


def test_a_production_dotenv_with_placeholders_is_called_a_config_problem(tmp_path):
    (tmp_path / ".env").write_text(PRODUCTION_DOTENV)

    line = one_line_error(crier("admin", "org", "list", cwd=tmp_path), 2)

    assert line.startswith("crier: config problem: refusing to start in production:")
    assert "CRIER_ADMIN_TOKEN is a placeholder" in line and "invalid input" not in line


@pytest.mark.parametrize("command", [["api"], ["worker"]])
def test_api_and_worker_refuse_to_start_without_redis_url(tmp_path, database, command):
    line = one_line_error(crier(*command, cwd=tmp_path, DATABASE_URL=database["DATABASE_URL"]), 2)

    assert (
        line == "crier: config problem: REDIS_URL is not set (make dev / make test start an embedded Redis)"
    )


def test_a_missing_catalog_file_is_one_line(tmp_path, database):
    line = one_line_error(crier("admin", "music", "set", "--file", "nope.json", cwd=tmp_path, **database), 2)

    assert line == "crier admin: cannot read nope.json: No such file or directory"


def test_a_catalog_in_the_wrong_shape_names_the_field(tmp_path, database):
    (tmp_path / "catalog.json").write_text(
        json.dumps({"items": [{"id": "1", "title": "No artist", "link": "x"}]})
    )

    line = one_line_error(
        crier("admin", "music", "set", "--file", "catalog.json", cwd=tmp_path, **database), 2
    )

    assert line == "crier admin: invalid input: items.0.artist: Field required"


def test_the_example_catalog_in_the_repository_loads(tmp_path, database):
    result = crier(
        "admin", "music", "set", "--file", str(EXAMPLES / "music-catalog.json"), cwd=tmp_path, **database
    )

    assert result.returncode == 0, result.stderr
    example = json.loads((EXAMPLES / "music-catalog.json").read_text())
    assert json.loads(result.stdout) == example


def test_bad_json_in_an_argument_is_one_line(tmp_path, database):
    line = one_line_error(
        crier(
            "admin", "account", "create", "--project", "prj_x", "--json", "{nope", cwd=tmp_path, **database
        ),
        2,
    )

    assert line.startswith("crier admin: --json is not valid JSON")


def test_an_unknown_key_is_the_operator_api_error_in_one_line(tmp_path, database):
    line = one_line_error(
        crier("admin", "key", "revoke", "key_00000000-0000-4000-8000-000000000000", cwd=tmp_path, **database),
        1,
    )

    assert line.startswith("crier admin: NOT_FOUND: No api key with id")


async def test_key_list_and_revoke_by_prefix_from_the_shell(tmp_path, database, tenant):
    prefix = tenant.key["key"][:12]

    listed = crier("admin", "key", "list", "--org", tenant.organization["id"], cwd=tmp_path, **database)
    revoked = crier("admin", "key", "revoke", prefix, cwd=tmp_path, **database)

    assert [key["keyPrefix"] for key in json.loads(listed.stdout)] == [prefix]
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["revokedAt"] is not None


def test_a_usage_mistake_is_one_line(tmp_path):
    line = one_line_error(crier("admin", "post", "list", "--from", cwd=tmp_path), 2)

    assert line.startswith("crier admin post list: argument --from: expected one argument")


def test_an_unreachable_database_is_one_line(tmp_path):
    line = one_line_error(
        crier("admin", "org", "list", cwd=tmp_path, DATABASE_URL="postgresql://crier@127.0.0.1:1/crier"), 1
    )

    assert line.startswith("crier admin: cannot reach PostgreSQL")
