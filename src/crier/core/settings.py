"""One Settings object for the whole process, read from the environment (and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_MARKERS = ("changeme", "change-me", "placeholder", "example", "xxx")


def _looks_like_placeholder(value: str) -> bool:
    lowered = value.lower()
    return not value.strip() or any(marker in lowered for marker in PLACEHOLDER_MARKERS)


def _encryption_key_problem(raw: str) -> str | None:
    """Why CRIER_ENCRYPTION_KEYS cannot protect tokens, or None.

    Checked at startup so a bad key fails the deploy instead of the first account connection.
    """
    from cryptography.fernet import Fernet

    from crier.core.crypto import _DEVELOPMENT_KEY  # imported late: crypto imports this module

    keys = [key.strip() for key in raw.split(",") if key.strip()]
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError:
            return "CRIER_ENCRYPTION_KEYS holds a value that is not a Fernet key"
    if _DEVELOPMENT_KEY in keys:
        return "CRIER_ENCRYPTION_KEYS holds the public development key"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRIER_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"

    # The conventional names win so that docker, Heroku-style hosts and `make dev` agree.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "CRIER_DATABASE_URL")
    )
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("REDIS_URL", "CRIER_REDIS_URL"))
    database_pool_size: int = 10
    database_connect_timeout_seconds: float = 3.0
    database_statement_timeout_seconds: float = 15.0

    admin_token: SecretStr | None = None
    # Fernet keys, comma-separated. The first encrypts; all decrypt (rotation: prepend a new key).
    encryption_keys: SecretStr | None = None

    max_body_bytes: int = 1_048_576
    rate_limit_per_minute: int = 600
    # Hosts whose media / provider URLs may resolve to private addresses (the sandbox, a LAN CDN).
    url_allowlist: list[str] = Field(default_factory=list)

    tiktok_api_base: str = "https://open.tiktokapis.com"
    tiktok_client_key: str = ""
    tiktok_client_secret: SecretStr = SecretStr("")
    instagram_api_base: str = "https://graph.facebook.com/v25.0"
    instagram_refresh_base: str = "https://graph.instagram.com"
    twilio_api_base: str = "https://api.twilio.com"
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_from_number: str = ""
    platform_timeout_seconds: float = 20.0

    # Delivery tuning
    worker_concurrency: int = 20
    worker_sweep_interval_seconds: float = 1.0
    lease_seconds: float = 60.0
    max_attempts: int = 5
    max_processing_seconds: float = 600.0

    # Webhook sending (runs in the worker beside delivery, with its own slots and HTTP client)
    webhook_concurrency: int = 10
    webhook_endpoint_concurrency: int = 4
    webhook_sweep_interval_seconds: float = 0.2
    webhook_timeout_seconds: float = 10.0
    # A claim covers the wait for a slot (at most one POST of its endpoint) and its own POST.
    webhook_lease_seconds: float = 30.0

    @model_validator(mode="after")
    def _refuse_placeholder_secrets_in_production(self) -> Settings:
        if self.env != "production":
            return self
        problems = []
        if not self.database_url:
            problems.append("DATABASE_URL is not set")
        if not self.redis_url:
            problems.append("REDIS_URL is not set")
        for name in ("admin_token", "encryption_keys"):
            secret = getattr(self, name)
            if secret is not None and _looks_like_placeholder(secret.get_secret_value()):
                problems.append(f"CRIER_{name.upper()} is a placeholder")
        if self.encryption_keys is None:
            problems.append("CRIER_ENCRYPTION_KEYS is not set")
        elif not _looks_like_placeholder(self.encryption_keys.get_secret_value()):
            key_problem = _encryption_key_problem(self.encryption_keys.get_secret_value())
            if key_problem:
                problems.append(key_problem)
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
