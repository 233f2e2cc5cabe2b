"""Operator packaging (issue 12): the image, the lock, compose, and the newcomer's first commands."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
CRIER_SERVICES = ("migrate", "api", "worker")


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_lock_pins_every_dependency_with_hashes_and_the_image_installs_exactly_it():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {match.group(1).lower() for match in re.finditer(r"^([A-Za-z0-9_.-]+)==", lock, re.MULTILINE)}
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert {_name(requirement) for requirement in project["dependencies"]} <= pinned
    assert "--require-hashes" in dockerfile and "-r requirements.lock" in dockerfile
    assert "--no-deps --no-index" in dockerfile


def test_every_pinned_requirement_carries_a_hash():
    lock = (ROOT / "requirements.lock").read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock.strip())

    assert entries and all("--hash=sha256:" in entry for entry in entries if "==" in entry)


def test_the_python_requirement_is_open_ended():
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"] == ">=3.11"


def test_the_migrate_service_does_not_inherit_the_api_healthcheck():
    assert COMPOSE["services"]["migrate"]["healthcheck"] == {"disable": True}
    assert COMPOSE["services"]["worker"]["healthcheck"]["test"] == ["CMD", "crier", "worker", "--check"]


@pytest.mark.parametrize("service", sorted(COMPOSE["services"]))
def test_every_service_rotates_its_logs_and_has_resource_limits(service):
    definition = COMPOSE["services"][service]

    assert definition["logging"]["driver"] == "json-file"
    assert definition["logging"]["options"]["max-size"] and definition["logging"]["options"]["max-file"]
    assert definition["mem_limit"] and definition["cpus"]


def test_the_worker_serves_metrics_on_the_compose_network():
    worker = COMPOSE["services"]["worker"]

    assert worker["environment"]["CRIER_WORKER_METRICS_HOST"] == "0.0.0.0"
    assert worker["expose"] == ["9100"]


def test_the_secrets_override_feeds_file_variables():
    override = yaml.safe_load((ROOT / "deploy" / "compose.secrets.yml").read_text())

    for service in CRIER_SERVICES:
        assert (
            override["services"][service]["environment"]["CRIER_ADMIN_TOKEN_FILE"]
            == "/run/secrets/admin_token"
        )
        assert set(override["services"][service]["secrets"]) == {"admin_token", "encryption_keys"}


def test_the_image_context_leaves_out_secrets_and_local_state():
    ignored = (ROOT / ".dockerignore").read_text().split()

    for entry in (".env", ".venv", ".data", ".git", "tests", "secrets"):
        assert entry in ignored


def _compose_available() -> bool:
    if shutil.which("docker-compose"):
        return True
    return (
        shutil.which("docker") is not None
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    )


@pytest.mark.skipif(not _compose_available(), reason="Docker Compose is not installed here")
def test_compose_check_validates_without_writing_dotenv(tmp_path):
    for name in ("docker-compose.yml", ".env.example", "Makefile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")

    result = subprocess.run(["make", "-s", "compose-check"], cwd=tmp_path, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert not (tmp_path / ".env").exists()


def test_compose_check_says_when_compose_is_missing(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    bare = tmp_path / "bin"
    bare.mkdir()  # a PATH with neither docker nor docker-compose

    result = subprocess.run(
        [shutil.which("make"), "-s", "compose-check"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(bare)},
    )

    assert result.returncode != 0
    assert "Docker Compose is not installed" in result.stderr
    assert not (tmp_path / ".env").exists()


def test_make_dev_skips_a_production_dotenv_in_one_line(tmp_path, monkeypatch, capsys):
    from crier.devstack.dev import _development_env

    (tmp_path / ".env").write_text("CRIER_ENV=production\nCRIER_ENCRYPTION_KEYS=changeme\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CRIER_DOTENV", ".env")  # so that monkeypatch restores whatever _development_env sets
    monkeypatch.setenv("CRIER_ENV", "test")  # restored by monkeypatch; _development_env writes os.environ
    env: dict[str, str] = {}

    _development_env(env)

    assert env["CRIER_DOTENV"] == "none" and env["CRIER_ENV"] == "development"
    [line] = capsys.readouterr().out.strip().splitlines()
    assert line.strip().startswith("ignoring .env: it is a production configuration")


def test_make_dev_keeps_a_development_dotenv(tmp_path, monkeypatch, capsys):
    from crier.devstack.dev import _development_env

    (tmp_path / ".env").write_text("CRIER_LOG_LEVEL=DEBUG\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CRIER_DOTENV", ".env")  # so that monkeypatch restores whatever _development_env sets
    monkeypatch.setenv("CRIER_ENV", "test")
    env: dict[str, str] = {}

    _development_env(env)

    assert "CRIER_DOTENV" not in env and capsys.readouterr().out == ""
