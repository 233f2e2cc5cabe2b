"""`.data/dev-stack.json`: what `make dev` started, so `crier admin` (and friends) can find it.

`crier dev` writes it once the stack answers and removes it on the way out; a file left behind by a
killed `make dev` names a process that is gone, and is ignored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

STACK_FILE = "dev-stack.json"


def data_dir() -> Path:
    return Path(os.environ.get("CRIER_DATA_DIR", ".data")).resolve()


def stack_path() -> Path:
    return data_dir() / STACK_FILE


def write_stack(info: dict[str, Any]) -> Path:
    path = stack_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"pid": os.getpid(), **info}, indent=2))
    temporary.chmod(0o600)  # it holds the operator token
    temporary.replace(path)
    return path


def remove_stack() -> None:
    stack_path().unlink(missing_ok=True)


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def running_stack() -> dict[str, Any] | None:
    """The running `make dev` stack's record, or None (no file, unreadable, or its process is gone)."""
    try:
        info = json.loads(stack_path().read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and _alive(info.get("pid")) else None


def use_running_stack() -> dict[str, Any] | None:
    """Point this process at the running `make dev` stack unless DATABASE_URL is set; returns its record.

    Its environment wins over `.env` (which may be a production one for docker compose).
    """
    if os.environ.get("DATABASE_URL"):
        return None
    info = running_stack()
    if info is None:
        return None
    for name, value in (info.get("env") or {}).items():
        os.environ[name] = str(value)
    from crier.core.settings import get_settings

    get_settings.cache_clear()
    return info
