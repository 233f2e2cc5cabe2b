"""The FastAPI application: routers per capability, the envelope, request ids, body limits."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from crier.api.errors import install_error_handlers
from crier.api.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from crier.api.openapi import install_openapi
from crier.core.db import get_engine
from crier.core.redis import close_redis
from crier.core.logging import configure_logging
from crier.core.settings import get_settings
from crier.health import router as health_router
from crier.admin.endpoints import router as admin_router
from crier.accounts.endpoints import router as accounts_router
from crier.content.endpoints import router as content_router
from crier.publishing.endpoints import router as publishing_router
from crier.approval.endpoints import router as approval_router
from crier.scheduled_posts.endpoints import router as scheduled_posts_router
from crier.webhooks.endpoints import router as webhooks_router


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield
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
    )
    install_error_handlers(app)
    for router in (health_router, content_router, publishing_router, approval_router, scheduled_posts_router,
                   accounts_router, admin_router, webhooks_router):
        app.include_router(router)
    install_openapi(app)
    # Outermost first: the request id must exist before anything can fail.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    return app
