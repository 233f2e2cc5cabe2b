"""Run the Alembic migrations programmatically (`crier migrate`, tests, `make dev`)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config

# A source checkout keeps alembic.ini beside src/; an installed image sets CRIER_HOME (see Dockerfile).
_ROOT = Path(os.environ.get("CRIER_HOME") or Path(__file__).resolve().parents[2])


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(_ROOT / "migrations"))
    config.attributes["configure_logging"] = False
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)
