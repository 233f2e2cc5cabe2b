"""Secrets from files (issue 12): `<VARIABLE>_FILE` names a file holding the value (Docker secrets)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from crier.core.settings import ConfigError, Settings


@pytest.fixture(autouse=True)
def bare_environment(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "CRIER_ADMIN_TOKEN", "CRIER_ENCRYPTION_KEYS", "CRIER_ENV"):
        monkeypatch.delenv(name, raising=False)


def secret_file(tmp_path, name: str, content: str):
    path = tmp_path / name
    path.write_text(content)
    return str(path)


def test_a_secret_is_read_from_the_file_its_file_variable_names(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "CRIER_ADMIN_TOKEN_FILE", secret_file(tmp_path, "admin_token", "s3cret-operator-token\n")
    )

    assert Settings(_env_file=None).admin_token.get_secret_value() == "s3cret-operator-token"


def test_production_starts_on_file_secrets_alone(tmp_path, monkeypatch):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("CRIER_ENV", "production")
    monkeypatch.setenv("DATABASE_URL_FILE", secret_file(tmp_path, "db", "postgresql://crier:pw@db/crier"))
    monkeypatch.setenv("REDIS_URL_FILE", secret_file(tmp_path, "redis", "redis://cache:6379/0"))
    monkeypatch.setenv("CRIER_ENCRYPTION_KEYS_FILE", secret_file(tmp_path, "keys", key))
    monkeypatch.setenv(
        "CRIER_ADMIN_TOKEN_FILE", secret_file(tmp_path, "admin", "9f2c4e7a1b3d5f6e8a0c2e4f6a8b0d1c")
    )
    monkeypatch.setenv(
        "CRIER_TIKTOK_CLIENT_SECRET_FILE", secret_file(tmp_path, "tiktok", "tt-secret-7a1b3d5f")
    )
    monkeypatch.setenv(
        "CRIER_INSTAGRAM_APP_SECRET_FILE", secret_file(tmp_path, "instagram", "ig-secret-9f2c4e7a")
    )
    # Not secrets, so plain variables: where the connect flow lives and the apps' public ids.
    monkeypatch.setenv("CRIER_PUBLIC_URL", "https://crier.example.com")
    monkeypatch.setenv("CRIER_TIKTOK_CLIENT_KEY", "tt-client-key")
    monkeypatch.setenv("CRIER_INSTAGRAM_APP_ID", "1234567890")

    settings = Settings(_env_file=None)

    assert settings.database_url == "postgresql://crier:pw@db/crier"
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.encryption_keys.get_secret_value() == key
    assert settings.tiktok_client_secret.get_secret_value() == "tt-secret-7a1b3d5f"


def test_a_placeholder_in_a_file_is_refused_like_one_in_a_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("CRIER_ENV", "production")
    monkeypatch.setenv("CRIER_ENCRYPTION_KEYS_FILE", secret_file(tmp_path, "keys", "changeme"))

    with pytest.raises(ValueError, match="CRIER_ENCRYPTION_KEYS is a placeholder"):
        Settings(_env_file=None, database_url="postgresql://x/y", redis_url="redis://r")


def test_setting_both_the_variable_and_its_file_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CRIER_ADMIN_TOKEN", "one")
    monkeypatch.setenv("CRIER_ADMIN_TOKEN_FILE", secret_file(tmp_path, "admin_token", "two"))

    with pytest.raises(ConfigError, match="both CRIER_ADMIN_TOKEN and CRIER_ADMIN_TOKEN_FILE are set"):
        Settings(_env_file=None)


def test_an_unreadable_file_is_a_config_error_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("CRIER_ADMIN_TOKEN_FILE", str(tmp_path / "missing"))

    with pytest.raises(ConfigError, match=r"CRIER_ADMIN_TOKEN_FILE=.*missing cannot be read"):
        Settings(_env_file=None)


def test_random_fernet_keys_are_never_mistaken_for_placeholders():
    keys = ["xXx" + Fernet.generate_key().decode()[3:] for _ in range(5)]  # "xxx" is a placeholder marker
    valid = [key for key in keys if _is_key(key)]

    for key in valid:
        settings = Settings(_env_file=None, env="development", encryption_keys=key)
        assert "CRIER_ENCRYPTION_KEYS is a placeholder" not in settings.production_problems()


def _is_key(key: str) -> bool:
    try:
        Fernet(key.encode())
    except ValueError:
        return False
    return True
