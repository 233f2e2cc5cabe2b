"""`crier check-config`: what production would refuse, said before `docker compose up` finds out.

Reads the configuration exactly as the API and worker would (environment, `.env`, `*_FILE` secrets),
judges it as if CRIER_ENV were production, and prints one line per finding: `refuse:` for what stops a
production start, `warn:` for what starts but will hurt (no platform credentials, no operator token).
Exit 0 when nothing would be refused, 1 otherwise (2 when the configuration cannot even be read).
"""

from __future__ import annotations

import asyncio
import sys

from pydantic import ValidationError

from crier.core.settings import Settings, env_file, explain


def _warnings(settings: Settings) -> list[str]:
    found = []
    if settings.env != "production":
        found.append(f"CRIER_ENV is {settings.env}: set CRIER_ENV=production where partners connect")
    if settings.admin_token is None or not settings.admin_token.get_secret_value():
        found.append("CRIER_ADMIN_TOKEN is not set: the operator API (/admin/v1) is disabled")
    if not settings.tiktok_client_key or not settings.tiktok_client_secret.get_secret_value():
        found.append(
            "CRIER_TIKTOK_CLIENT_KEY / CRIER_TIKTOK_CLIENT_SECRET are not set: TikTok tokens cannot be "
            "refreshed"
        )
    twilio = (
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        settings.twilio_from_number,
    )
    if not all(twilio):
        found.append("CRIER_TWILIO_* is incomplete: Instagram drafts (SMS to the operator phone) will fail")
    if settings.otel_enabled:
        from importlib.util import find_spec

        if find_spec("opentelemetry") is None or find_spec("opentelemetry.sdk") is None:
            found.append(
                "CRIER_OTEL_ENABLED is true but the otel extra is not installed: the API will not start"
            )
    return found


async def _reachable(settings: Settings) -> list[str]:
    """Connect to PostgreSQL and Redis once each; a finding per one that does not answer."""
    from redis.asyncio import Redis
    from sqlalchemy import text

    from crier.core.db import make_engine

    found = []
    if settings.database_url:
        engine = make_engine(settings.database_url, pooled=False)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            found.append(f"PostgreSQL at DATABASE_URL does not answer ({type(exc).__name__})")
        finally:
            await engine.dispose()
    if settings.redis_url:
        client = Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
        try:
            await client.ping()
        except Exception as exc:
            found.append(f"Redis at REDIS_URL does not answer ({type(exc).__name__})")
        finally:
            await client.aclose()
    return found


def _compose_findings(refusals: list[str]) -> list[str]:
    """docker-compose.yml builds DATABASE_URL and REDIS_URL itself, from POSTGRES_PASSWORD in .env."""
    import os

    from dotenv import dotenv_values

    from crier.core.settings import _looks_like_placeholder

    kept = [line for line in refusals if not line.startswith(("DATABASE_URL", "REDIS_URL"))]
    dotenv = env_file()
    password = os.environ.get("POSTGRES_PASSWORD") or (
        dotenv_values(dotenv).get("POSTGRES_PASSWORD") if dotenv and os.path.isfile(dotenv) else None
    )
    if not password:
        kept.append("POSTGRES_PASSWORD is not set (docker compose needs it for the bundled PostgreSQL)")
    elif _looks_like_placeholder(password) or "replace" in password.lower():
        kept.append("POSTGRES_PASSWORD is a placeholder")
    return kept


def check_config(*, connect: bool = False, compose: bool = False) -> int:
    try:
        # Read as development, so that production's own refusal does not stop the reading.
        settings = Settings(_env_file=env_file(), env="development")
    except ValidationError as exc:
        print(f"refuse: {explain(exc)}")
        return 1
    try:
        settings.env = Settings(_env_file=env_file()).env
    except ValidationError:  # only production refuses once the values themselves are valid
        settings.env = "production"
    refusals = settings.production_problems()
    if compose:
        refusals = _compose_findings(refusals)
    if connect:
        refusals += asyncio.run(_reachable(settings))
    for line in refusals:
        print(f"refuse: {line}")
    for line in _warnings(settings):
        print(f"warn: {line}")
    if refusals:
        print(f"production would refuse this configuration ({len(refusals)} problem(s))", file=sys.stderr)
        return 1
    print("ok: production would start with this configuration", file=sys.stderr)
    return 0
