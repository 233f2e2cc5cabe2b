"""Settings refuse to run production on missing or placeholder secrets (CONTRACT §11, STYLE 7)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from crier.core.settings import DEVELOPMENT_ENCRYPTION_KEY, Settings

REAL = {
    "database_url": "postgresql://crier:s3cret@db.internal:5432/crier",
    "redis_url": "redis://cache.internal:6379/0",
    "admin_token": "9f2c4e7a1b3d5f6e8a0c2e4f6a8b0d1c",
    "public_url": "https://crier.example.org",
    "tiktok_client_key": "aw1b2c3d4e5f6g7h",
    "tiktok_client_secret": "Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk1",
    "instagram_app_id": "990602627938098",
    "instagram_app_secret": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
}


@pytest.fixture(autouse=True)
def bare_environment(monkeypatch):
    """Only what each test passes counts: no CRIER_* / DATABASE_URL from the harness, no .env file."""
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "CRIER_DATABASE_URL",
        "CRIER_REDIS_URL",
        "CRIER_ADMIN_TOKEN",
        "CRIER_ENCRYPTION_KEYS",
        "CRIER_ENV",
        "CRIER_PUBLIC_URL",
        "CRIER_TIKTOK_CLIENT_KEY",
        "CRIER_TIKTOK_CLIENT_SECRET",
        "CRIER_INSTAGRAM_APP_ID",
        "CRIER_INSTAGRAM_APP_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)


def production(**overrides) -> Settings:
    values = {**REAL, "encryption_keys": Fernet.generate_key().decode(), **overrides}
    return Settings(_env_file=None, env="production", **{k: v for k, v in values.items() if v is not None})


def test_development_needs_no_secrets():
    settings = Settings(_env_file=None)

    assert settings.env == "development"
    assert settings.admin_token is None and settings.encryption_keys is None


def test_production_builds_with_real_secrets():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()

    settings = production(encryption_keys=f"{new},{old}")

    assert settings.env == "production"
    assert settings.encryption_keys.get_secret_value() == f"{new},{old}"


def test_production_without_an_admin_token_builds_with_the_operator_api_disabled():
    assert production(admin_token=None).admin_token is None


@pytest.mark.parametrize(
    ("missing", "complaint"),
    [
        ("database_url", "DATABASE_URL is not set"),
        ("redis_url", "REDIS_URL is not set"),
        ("encryption_keys", "CRIER_ENCRYPTION_KEYS is not set"),
        ("public_url", "CRIER_PUBLIC_URL is not set"),
        ("tiktok_client_key", "CRIER_TIKTOK_CLIENT_KEY is not set"),
        ("tiktok_client_secret", "CRIER_TIKTOK_CLIENT_SECRET is not set"),
        ("instagram_app_id", "CRIER_INSTAGRAM_APP_ID is not set"),
        ("instagram_app_secret", "CRIER_INSTAGRAM_APP_SECRET is not set"),
    ],
)
def test_production_refuses_a_missing_setting(missing, complaint):
    with pytest.raises(ValidationError, match=complaint):
        production(**{missing: None})


def test_production_refuses_a_plain_http_public_url():
    with pytest.raises(ValidationError, match="CRIER_PUBLIC_URL must be an https:// URL"):
        production(public_url="http://crier.example.org")


@pytest.mark.parametrize(
    "placeholder", ["changeme", "CHANGE-ME-please", "placeholder", "example-token", "", "   "]
)
@pytest.mark.parametrize("secret", ["admin_token", "encryption_keys"])
def test_production_refuses_a_placeholder_secret(secret, placeholder):
    with pytest.raises(ValidationError, match=f"CRIER_{secret.upper()} is a placeholder"):
        production(**{secret: placeholder})


@pytest.mark.parametrize("keys", ["not-a-fernet-key", f"{Fernet.generate_key().decode()},short"])
def test_production_refuses_encryption_keys_that_are_not_fernet_keys(keys):
    with pytest.raises(ValidationError, match="not a Fernet key"):
        production(encryption_keys=keys)


def test_production_refuses_the_public_development_key():
    with pytest.raises(ValidationError, match="development key"):
        production(encryption_keys=DEVELOPMENT_ENCRYPTION_KEY)


def test_production_reads_its_secrets_from_the_environment(monkeypatch):
    monkeypatch.setenv("CRIER_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", REAL["database_url"])
    monkeypatch.setenv("REDIS_URL", REAL["redis_url"])
    monkeypatch.setenv("CRIER_ADMIN_TOKEN", "changeme")
    monkeypatch.setenv("CRIER_ENCRYPTION_KEYS", Fernet.generate_key().decode())

    with pytest.raises(ValidationError, match="CRIER_ADMIN_TOKEN is a placeholder"):
        Settings(_env_file=None)
