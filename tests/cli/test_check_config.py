"""`crier check-config` (issue 12): what production would refuse, before `docker compose up` finds out."""

from __future__ import annotations

from cryptography.fernet import Fernet

from tests.cli.test_cli import PRODUCTION_DOTENV, crier

GOOD = {
    "CRIER_ENV": "production",
    "DATABASE_URL": "postgresql://crier:pw@db.internal/crier",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "CRIER_ADMIN_TOKEN": "9f2c4e7a1b3d5f6e8a0c2e4f6a8b0d1c",
    "CRIER_PUBLIC_URL": "https://crier.example.com",
    "CRIER_TIKTOK_CLIENT_KEY": "aw3kq8z1",
    "CRIER_TIKTOK_CLIENT_SECRET": "tt-7f3a9c2e5b1d",
    "CRIER_INSTAGRAM_APP_ID": "1234567890",
    "CRIER_INSTAGRAM_APP_SECRET": "ig-5b1d7f3a9c2e",
}
# What production also needs for end customers to connect accounts (ACCOUNTS.md), unset in PRODUCTION_DOTENV.
OAUTH_REFUSALS = [
    "refuse: CRIER_PUBLIC_URL is not set",
    "refuse: CRIER_TIKTOK_CLIENT_KEY is not set",
    "refuse: CRIER_TIKTOK_CLIENT_SECRET is not set",
    "refuse: CRIER_INSTAGRAM_APP_ID is not set",
    "refuse: CRIER_INSTAGRAM_APP_SECRET is not set",
]


def test_the_example_dotenv_is_refused_line_by_line(tmp_path):
    (tmp_path / ".env").write_text(PRODUCTION_DOTENV)

    result = crier("check-config", cwd=tmp_path)

    assert result.returncode == 1
    refusals = [line for line in result.stdout.splitlines() if line.startswith("refuse:")]
    assert refusals == [
        "refuse: DATABASE_URL is not set",
        "refuse: REDIS_URL is not set",
        "refuse: CRIER_ADMIN_TOKEN is a placeholder",
        "refuse: CRIER_ENCRYPTION_KEYS is a placeholder",
        *OAUTH_REFUSALS,
    ]
    assert "Traceback" not in result.stderr


def test_for_compose_the_urls_come_from_compose_and_the_postgres_password_counts(tmp_path):
    (tmp_path / ".env").write_text(
        PRODUCTION_DOTENV + "POSTGRES_PASSWORD=replace-with-a-long-random-password\n"
    )

    result = crier("check-config", "--compose", cwd=tmp_path)

    refusals = [line for line in result.stdout.splitlines() if line.startswith("refuse:")]
    assert refusals == [
        "refuse: CRIER_ADMIN_TOKEN is a placeholder",
        "refuse: CRIER_ENCRYPTION_KEYS is a placeholder",
        *OAUTH_REFUSALS,
        "refuse: POSTGRES_PASSWORD is a placeholder",
    ]


def test_a_production_ready_configuration_passes_with_warnings_only(tmp_path):
    result = crier("check-config", cwd=tmp_path, **GOOD, CRIER_ENCRYPTION_KEYS=Fernet.generate_key().decode())

    assert result.returncode == 0, result.stdout
    assert not [line for line in result.stdout.splitlines() if line.startswith("refuse:")]
    assert "warn: CRIER_TWILIO_* is incomplete" in result.stdout
    assert "ok: production would start" in result.stderr


def test_a_value_of_the_wrong_type_is_refused_by_its_variable_name(tmp_path):
    result = crier("check-config", cwd=tmp_path, CRIER_WORKER_METRICS_PORT="ninety")

    assert result.returncode == 1
    assert result.stdout.startswith("refuse: CRIER_WORKER_METRICS_PORT: Input should be a valid integer")


def test_connect_reports_servers_that_do_not_answer(tmp_path):
    result = crier(
        "check-config",
        "--connect",
        cwd=tmp_path,
        **{**GOOD, "DATABASE_URL": "postgresql://x@127.0.0.1:1/x", "REDIS_URL": "redis://127.0.0.1:1/0"},
        CRIER_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )

    assert result.returncode == 1
    assert "refuse: PostgreSQL at DATABASE_URL does not answer" in result.stdout
    assert "refuse: Redis at REDIS_URL does not answer" in result.stdout
