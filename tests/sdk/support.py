"""Helpers for running one SDK test through both the sync and the async client."""

from __future__ import annotations

import inspect
from typing import Any

BASE = "http://crier.test"


async def resolve(value: Any) -> Any:
    """A sync answer as is, an async one awaited, an (async) iterator drained into a list."""
    if inspect.isawaitable(value):
        return await value
    if hasattr(value, "__aiter__"):
        return [item async for item in value]
    if inspect.isgenerator(value):
        return list(value)
    return value
