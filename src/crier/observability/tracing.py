"""Optional OpenTelemetry tracing: API requests, platform HTTP calls and SQL, exported over OTLP.

Off unless CRIER_OTEL_ENABLED=true, and then it needs the `crier[otel]` extra; the exporter reads the
standard OTEL_EXPORTER_OTLP_* variables. Nothing here is imported when tracing is off.
"""

from __future__ import annotations

from typing import Any

from crier.core.settings import ConfigError, Settings

_configured = False


def configure_tracing(settings: Settings, *, app: Any = None, exporter: Any = None) -> bool:
    """Install the tracer provider and instrumentations once per process; True when tracing is on.

    `exporter` replaces the OTLP exporter (tests collect spans in memory).
    """
    global _configured
    if not settings.otel_enabled:
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise ConfigError(
            f"CRIER_OTEL_ENABLED is true but OpenTelemetry is not installed "
            f"(pip install 'crier[otel]'; missing {exc.name})"
        ) from None
    if not _configured:
        provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name}))
        provider.add_span_processor(BatchSpanProcessor(exporter or OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        HTTPXClientInstrumentor().instrument()
        from crier.core.db import get_engine

        # The process's one engine (API and worker alike use get_engine()). The instrumentation's declared
        # range stops below SQLAlchemy 2.1, whose engine events it uses unchanged: skip its version check.
        SQLAlchemyInstrumentor().instrument(
            engine=get_engine().sync_engine, enable_commenter=False, skip_dep_check=True
        )
        _configured = True
    if app is not None:
        FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,metrics")
    return True
