"""One Settings object for the whole process, read from the environment (and `.env`)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PLACEHOLDER_MARKERS = ("changeme", "change-me", "placeholder", "example", "xxx")

# Used only outside production when no key is configured, so `make dev` and tests need no setup.
# Production refuses to start without CRIER_ENCRYPTION_KEYS, and with this key (see Settings).
DEVELOPMENT_ENCRYPTION_KEY = "Y3JpZXItZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHI="


def _looks_like_placeholder(value: str) -> bool:
    lowered = value.lower()
    return not value.strip() or any(marker in lowered for marker in PLACEHOLDER_MARKERS)


def _encryption_key_problem(raw: str) -> str | None:
    """Why CRIER_ENCRYPTION_KEYS cannot protect tokens, or None.

    Checked at startup so a bad key fails the deploy instead of the first account connection.
    """
    from cryptography.fernet import Fernet

    keys = _split_keys(raw)
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError:
            return "CRIER_ENCRYPTION_KEYS holds a value that is not a Fernet key"
    if DEVELOPMENT_ENCRYPTION_KEY in keys:
        return "CRIER_ENCRYPTION_KEYS holds the public development key"
    return None


def _split_keys(raw: str) -> list[str]:
    return [key.strip() for key in raw.split(",") if key.strip()]


class ConfigError(Exception):
    """The configuration (environment, .env, *_FILE secrets) cannot run Crier: say what to fix."""


def _env_names(name: str, field: FieldInfo) -> list[str]:
    if isinstance(field.validation_alias, AliasChoices):
        return [str(choice) for choice in field.validation_alias.choices]
    return [f"CRIER_{name.upper()}"]


class FileSecretsSource(PydanticBaseSettingsSource):
    """`CRIER_ADMIN_TOKEN_FILE=/run/secrets/admin_token` and the like: any setting read from a file.

    Docker and Kubernetes secrets arrive as files; the variable naming the file is the setting's own
    variable with `_FILE` appended. Setting both is refused (which one would win is anyone's guess).
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads every field at once

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            for variable in _env_names(name, field):
                path = os.environ.get(f"{variable}_FILE")
                if not path:
                    continue
                if os.environ.get(variable):
                    raise ConfigError(f"both {variable} and {variable}_FILE are set; keep one")
                # An aliased field (DATABASE_URL) is filled by its alias, as the environment source does.
                key = variable if isinstance(field.validation_alias, AliasChoices) else name
                try:
                    values[key] = Path(path).read_text().strip()
                except OSError as exc:
                    raise ConfigError(f"{variable}_FILE={path} cannot be read ({exc.strerror})") from None
        return values


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

    # OAuth connect (ACCOUNTS.md, PLATFORMS.md §8). The callback is {public_url}/oauth/callback/{platform}:
    # register exactly that redirect URI with both platforms.
    public_url: str | None = None
    tiktok_authorize_url: str = "https://www.tiktok.com/v2/auth/authorize/"
    instagram_app_id: str = ""
    instagram_app_secret: SecretStr = SecretStr("")
    instagram_authorize_url: str = "https://www.instagram.com/oauth/authorize"
    # The code exchange; the long-lived token swap and the /me profile go to instagram_refresh_base.
    instagram_oauth_base: str = "https://api.instagram.com"

    # Delivery tuning
    # Posts in flight per worker process, waiting ones included (a waiting post is a sleeping task;
    # database and per-host HTTP connections bound the actual work).
    worker_concurrency: int = 500
    worker_sweep_interval_seconds: float = 1.0
    # Claim posts due this far ahead (under lease) so each starts at its instant, bursts included.
    worker_claim_ahead_seconds: float = 2.0
    lease_seconds: float = 60.0
    max_attempts: int = 5
    max_processing_seconds: float = 600.0
    # Reconciliation of a lost answer (PLATFORMS.md §6): the platform's record must show nothing for
    # this long after the intent before absence counts as proven, and a round gives up after the max.
    reconcile_window_seconds: float = 300.0
    reconcile_max_seconds: float = 480.0
    # Platform limits (PLATFORMS.md §7): TikTok's per-token rates hold per this window (60 s on the real
    # platform; tests and the sandbox may shrink both sides together). The margin widens it so a call
    # sent a little after its slot never lands in the platform's view of the previous window. A paced
    # call waits in place up to `pacing_inline_wait_seconds`; longer, the post is deferred.
    tiktok_rate_window_seconds: float = 60.0
    pacing_margin_seconds: float = 2.0
    pacing_inline_wait_seconds: float = 5.0
    # Instagram's content_publishing_limit is asked again once the stored answer is this old.
    instagram_quota_refresh_seconds: float = 600.0

    # Webhook sending (runs in the worker beside delivery, with its own slots and HTTP client)
    webhook_concurrency: int = 10
    webhook_endpoint_concurrency: int = 4
    webhook_sweep_interval_seconds: float = 0.2
    webhook_timeout_seconds: float = 10.0
    # A claim covers the wait for a slot (at most one POST of its endpoint) and its own POST.
    webhook_lease_seconds: float = 30.0

    # Observability
    # One JSON `crier.access` line per API request (metrics are recorded either way).
    access_log: bool = True
    # Where `crier worker` serves /metrics (0 turns it off); each worker process needs a port of its own.
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=9100, ge=0, le=65535)
    # OpenTelemetry tracing of API requests, platform calls and SQL (needs `pip install 'crier[otel]'`);
    # exported over OTLP to OTEL_EXPORTER_OTLP_ENDPOINT.
    otel_enabled: bool = False
    otel_service_name: str = "crier"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit arguments, then the environment, then *_FILE secrets, then .env.
        return (
            init_settings,
            env_settings,
            FileSecretsSource(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )

    def encryption_key_list(self) -> list[str]:
        """The Fernet keys, newest (the one that encrypts) first; the development key when none is set."""
        raw = self.encryption_keys.get_secret_value() if self.encryption_keys else DEVELOPMENT_ENCRYPTION_KEY
        return _split_keys(raw)

    def required_database_url(self) -> str:
        if not self.database_url:
            raise ConfigError("DATABASE_URL is not set (make dev / make test start an embedded PostgreSQL)")
        return self.database_url

    def required_redis_url(self) -> str:
        """REDIS_URL, or a ConfigError: never somebody else's Redis on 127.0.0.1:6379 by default."""
        if not self.redis_url:
            raise ConfigError("REDIS_URL is not set (make dev / make test start an embedded Redis)")
        return self.redis_url

    def production_problems(self) -> list[str]:
        """What `CRIER_ENV=production` refuses to start with (also `crier check-config`)."""
        problems = []
        if not self.database_url:
            problems.append("DATABASE_URL is not set")
        if not self.redis_url:
            problems.append("REDIS_URL is not set")
        if self.admin_token is not None and _looks_like_placeholder(self.admin_token.get_secret_value()):
            problems.append("CRIER_ADMIN_TOKEN is a placeholder")
        if self.encryption_keys is None:
            problems.append("CRIER_ENCRYPTION_KEYS is not set")
        else:
            raw = self.encryption_keys.get_secret_value()
            key_problem = _encryption_key_problem(raw)
            # Only a value that is not a key can be a placeholder: random keys contain "xXx" at times.
            not_a_key = not raw.strip() or (key_problem is not None and "not a Fernet key" in key_problem)
            if not_a_key and _looks_like_placeholder(raw):
                problems.append("CRIER_ENCRYPTION_KEYS is a placeholder")
            elif key_problem:
                problems.append(key_problem)
        problems.extend(self._oauth_problems())
        return problems

    @model_validator(mode="after")
    def _refuse_placeholder_secrets_in_production(self) -> Settings:
        if self.env != "production":
            return self
        problems = self.production_problems()
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    def _oauth_problems(self) -> list[str]:
        """What stops the connect flow: without these, no end customer can connect or reconnect."""
        problems = []
        if not self.public_url:
            problems.append("CRIER_PUBLIC_URL is not set")
        elif not self.public_url.startswith("https://"):
            problems.append(
                "CRIER_PUBLIC_URL must be an https:// URL (the platforms' redirect URIs are https)"
            )
        for name in ("tiktok_client_key", "tiktok_client_secret", "instagram_app_id", "instagram_app_secret"):
            value = getattr(self, name)
            if not (value.get_secret_value() if isinstance(value, SecretStr) else value).strip():
                problems.append(f"CRIER_{name.upper()} is not set")
        return problems


def explain(error: ValidationError) -> str:
    """A settings ValidationError as one line naming the variables (no pydantic URLs, no traceback)."""
    parts = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        field = Settings.model_fields.get(location[0]) if location else None
        variable = _env_names(location[0], field)[0] if field is not None else ".".join(location).upper()
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{variable}: {message}" if variable else message)
    return "; ".join(parts)


def load_settings() -> Settings:
    """get_settings(), with every configuration problem raised as one ConfigError."""
    try:
        return get_settings()
    except ValidationError as exc:
        raise ConfigError(explain(exc)) from None


def env_file() -> str | None:
    """The dotenv file settings read: `.env`, or CRIER_DOTENV (`none` reads none; `make dev` sets it
    so that a production `.env` meant for docker compose cannot leak into the development stack)."""
    value = os.environ.get("CRIER_DOTENV", ".env")
    return None if value.strip().lower() in ("", "none") else value


@lru_cache
def get_settings() -> Settings:
    return Settings(_env_file=env_file())
