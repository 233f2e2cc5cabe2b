"""The FastAPI application: routers per capability, the envelope, request ids, body limits."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from crier.accounts.endpoints import router as accounts_router
from crier.accounts.oauth_endpoints import callback_router as oauth_callback_router
from crier.accounts.oauth_endpoints import router as oauth_router
from crier.admin.endpoints import router as admin_router
from crier.api.docs import install_docs
from crier.api.errors import install_error_handlers
from crier.api.lean import LeanDispatch
from crier.api.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from crier.api.openapi import install_openapi, operation_id
from crier.approval.endpoints import router as approval_router
from crier.attempts.endpoints import router as attempts_router
from crier.content.endpoints import router as content_router
from crier.core.db import get_engine
from crier.core.logging import configure_logging
from crier.core.redis import close_redis
from crier.core.settings import get_settings
from crier.health import router as health_router
from crier.observability import exposition, metrics
from crier.observability.access import AccessLogMiddleware
from crier.observability.access import router as metrics_router
from crier.observability.tracing import configure_tracing
from crier.preflight.endpoints import router as preflight_router
from crier.publishing.endpoints import router as publishing_router
from crier.quota.endpoints import router as quota_router
from crier.scheduled_posts.endpoints import router as scheduled_posts_router
from crier.webhooks.endpoints import router as webhooks_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Everything loaded so far (modules, routes, compiled statements) lives as long as the process:
    # keep it out of the garbage collector's full passes, which otherwise re-walk it under load.
    gc.freeze()
    yield
    exposition.process_exiting()
    await close_redis()
    await get_engine().dispose()


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        title="Crier",
        version="0.1.0",
        summary="Layers-compatible publishing API for TikTok and Instagram.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,  # install_docs serves /docs and /redoc with packaged assets (no CDN)
        redoc_url=None,
    )
    install_error_handlers(app)
    for router in (
        health_router,
        content_router,
        publishing_router,
        approval_router,
        scheduled_posts_router,
        accounts_router,
        oauth_router,
        oauth_callback_router,
        admin_router,
        metrics_router,
        attempts_router,
        preflight_router,
        quota_router,
        webhooks_router,
    ):
        app.include_router(router)
    install_openapi(app)
    install_docs(app)
    # Innermost first: a well-formed publish is answered before FastAPI's router (api.lean), inside
    # the body cap, the request id and the access log, which see every request alike.
    app.add_middleware(LeanDispatch, routers=[publishing_router])
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(
        AccessLogMiddleware, log_requests=settings.access_log
    )  # outermost: sees every answer, the 500 envelope included
    metrics.watch_db_pools(settings.database_pool_size * 2)  # the engine's pool_size (core/db.py)
    configure_tracing(settings, app=app)
    return app
