"""Run the sandbox with uvicorn."""

from __future__ import annotations

import uvicorn

from crier.sandbox.app import create_app
from crier.sandbox.state import SandboxConfig


def run(host: str = "127.0.0.1", port: int = 8787, *, config: SandboxConfig | None = None) -> None:
    """Serve all fakes on host:port until interrupted."""
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
