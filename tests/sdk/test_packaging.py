"""The SDK installs and imports on its own: httpx and pydantic, nothing of the server."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

SDK = Path(__file__).resolve().parents[2] / "sdk"


def test_the_sdk_depends_only_on_httpx_and_pydantic():
    project = tomllib.loads((SDK / "pyproject.toml").read_text())["project"]

    assert sorted(requirement.split(">")[0].split("=")[0] for requirement in project["dependencies"]) == [
        "httpx",
        "pydantic",
    ]


def test_importing_the_sdk_imports_nothing_of_the_server():
    probe = (
        "import sys, crier_sdk; "
        "leaked = sorted(m for m in sys.modules if m == 'crier' or m.startswith('crier.')); "
        "print(leaked); sys.exit(1 if leaked else 0)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_sdk_module_is_typed():
    assert (SDK / "src" / "crier_sdk" / "py.typed").exists()
