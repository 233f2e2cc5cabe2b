"""The real Crier API on a loopback port, for the browser."""

from __future__ import annotations

import pytest

from tests.sdk.support import serve


@pytest.fixture(scope="package")
async def crier_url(app):
    async with serve(app) as url:
        yield url
