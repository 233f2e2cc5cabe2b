"""Point Crier's adapters at a running sandbox: one place for `make dev`, tests and benchmarks."""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr

TWILIO_FROM = "+15555550199"


def platform_settings(base_url: str) -> dict[str, Any]:
    """Settings fields (as `Settings.model_copy(update=...)` takes them) for the sandbox at `base_url`."""
    return {
        "tiktok_api_base": f"{base_url}/tiktok",
        "instagram_api_base": f"{base_url}/instagram/v25.0",
        "instagram_refresh_base": f"{base_url}/instagram-refresh",
        "twilio_api_base": f"{base_url}/twilio",
        "twilio_account_sid": "ACsandbox",
        "twilio_auth_token": SecretStr("sandbox-auth-token"),
        "twilio_from_number": TWILIO_FROM,
        "tiktok_client_key": "sandbox-client-key",
        "tiktok_client_secret": SecretStr("sandbox-client-secret"),
        "tiktok_authorize_url": f"{base_url}/tiktok-web/v2/auth/authorize/",
        "instagram_authorize_url": f"{base_url}/instagram-web/oauth/authorize",
        "instagram_oauth_base": f"{base_url}/instagram-oauth",
        "instagram_app_id": "sandbox-app-id",
        "instagram_app_secret": SecretStr("sandbox-app-secret"),
        # The sandbox's managed provider lives on loopback: allow that one host.
        "url_allowlist": ["127.0.0.1"],
    }


def platform_env(base_url: str) -> dict[str, str]:
    """The same as environment variables, for `crier api` / `crier worker` subprocesses."""
    env = {}
    for name, value in platform_settings(base_url).items():
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"CRIER_{name.upper()}"] = json.dumps(value) if isinstance(value, list) else str(value)
    return env
