"""Optional OpenTelemetry tracing (issue 12): off by default, a clear error without the extra, and with it
spans for API requests, platform HTTP calls and SQL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from crier.core.settings import ConfigError, get_settings
from crier.observability.tracing import configure_tracing


def test_tracing_is_off_by_default():
    assert get_settings().otel_enabled is False
    assert configure_tracing(get_settings()) is False


def test_enabled_without_the_extra_is_a_config_error(monkeypatch):
    monkeypatch.setitem(
        sys.modules, "opentelemetry.sdk.trace", None
    )  # as if `crier[otel]` were not installed

    with pytest.raises(ConfigError, match=r"pip install 'crier\[otel\]'"):
        configure_tracing(get_settings().model_copy(update={"otel_enabled": True}))


SCRIPT = textwrap.dedent("""
    import asyncio, httpx, respx
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry import trace
    from crier.core.settings import get_settings
    from crier.observability.tracing import configure_tracing
    from crier.platforms.http import create_http_client
    from crier.app import create_app

    spans = InMemorySpanExporter()
    settings = get_settings()
    configure_tracing(settings, exporter=spans)
    app = create_app()  # instruments the app (tracing is already configured: the exporter stays)

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://crier.test") as client:
            assert (await client.get("/readyz")).status_code == 200
        with respx.mock:
            respx.get(f"{settings.tiktok_api_base}/v2/user/info/").mock(return_value=httpx.Response(200, json={}))
            async with create_http_client(settings) as http:
                await http.get(f"{settings.tiktok_api_base}/v2/user/info/")

    asyncio.run(main())
    trace.get_tracer_provider().force_flush()
    for span in spans.get_finished_spans():
        print(span.kind.name, span.name)
""")


def test_with_the_extra_requests_platform_calls_and_sql_become_spans(servers):
    pytest.importorskip("opentelemetry.sdk")
    pytest.importorskip("opentelemetry.instrumentation.fastapi")
    env = {
        **os.environ,
        "CRIER_OTEL_ENABLED": "true",
        "DATABASE_URL": servers["database_url"],
        "REDIS_URL": servers["redis_url"],
        "CRIER_DOTENV": "none",
    }

    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr[-3000:]
    spans = result.stdout.splitlines()
    assert "SERVER GET /readyz" in spans
    assert any(span.startswith("CLIENT ") and "SELECT" in span for span in spans), spans
    assert any(span.startswith("CLIENT GET") for span in spans), spans
