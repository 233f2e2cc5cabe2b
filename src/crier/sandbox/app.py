"""One ASGI app serving all four fakes on one port, plus the /_sandbox control endpoints.

/tiktok             → CRIER_TIKTOK_API_BASE=http://127.0.0.1:PORT/tiktok
/instagram/v25.0    → CRIER_INSTAGRAM_API_BASE=http://127.0.0.1:PORT/instagram/v25.0
/instagram-refresh  → CRIER_INSTAGRAM_REFRESH_BASE=http://127.0.0.1:PORT/instagram-refresh
/twilio             → CRIER_TWILIO_API_BASE=http://127.0.0.1:PORT/twilio
/managed            → a managed provider's baseUrl http://127.0.0.1:PORT/managed
OAuth consent pages, code exchanges and profiles: see crier.sandbox.oauth.
/webhooks/{name}    → a partner's webhook receiver (crier.sandbox.webhooks): verifies, records, fails on request
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse

from crier.sandbox import instagram, managed, oauth, tiktok, twilio, webhooks
from crier.sandbox.faults import ENDPOINTS
from crier.sandbox.state import SandboxConfig, SandboxState

JsonBody = Annotated[dict[str, Any], Body()]


def create_app(config: SandboxConfig | None = None, **overrides: Any) -> FastAPI:
    """Build the sandbox app; keyword overrides set SandboxConfig fields (processing_seconds=0.05)."""
    config = config or SandboxConfig(**overrides)
    app = FastAPI(
        title="Crier platform sandbox", docs_url="/_sandbox/docs", openapi_url="/_sandbox/openapi.json"
    )
    app.state.sandbox = SandboxState(config)
    for router in (
        tiktok.router,
        instagram.router,
        instagram.refresh_router,
        twilio.router,
        managed.router,
        oauth.consent_router,
        oauth.tiktok_router,
        oauth.instagram_oauth_router,
        oauth.instagram_graph_router,
        webhooks.router,
    ):
        app.include_router(router)

    @app.get("/_sandbox/records")
    async def records(request: Request) -> JSONResponse:
        """Everything the fakes created since the last reset, with per-caption creation counts."""
        state: SandboxState = request.app.state.sandbox
        for publish in state.tiktok_publishes.values():
            tiktok.settle(state, publish)  # a publish nobody polls still becomes a post
        return JSONResponse(state.snapshot())

    @app.post("/_sandbox/reset")
    async def reset(request: Request) -> dict[str, bool]:
        """Forget records, faults and configuration changes."""
        request.app.state.sandbox.reset()
        webhooks.inbox_of(request).reset()
        return {"reset": True}

    @app.get("/_sandbox/faults")
    async def read_faults(request: Request) -> dict[str, Any]:
        """The faults scripted now, and the endpoint names call faults can target."""
        return {**request.app.state.sandbox.faults.snapshot(), "endpoints": list(ENDPOINTS)}

    @app.post("/_sandbox/faults")
    async def add_faults(request: Request, body: JsonBody) -> JSONResponse:
        """Script failures (see crier.sandbox.faults for the fields)."""
        unknown = [
            item.get("endpoint")
            for item in body.get("calls", [])
            if not any(_matches(item.get("endpoint", ""), name) for name in ENDPOINTS)
        ]
        if unknown:
            return JSONResponse({"error": f"unknown endpoints {unknown}", "endpoints": list(ENDPOINTS)}, 400)
        request.app.state.sandbox.faults.update(body)
        return JSONResponse(request.app.state.sandbox.faults.snapshot())

    @app.get("/_sandbox/config")
    async def read_config(request: Request) -> dict[str, Any]:
        """The configuration in force."""
        state: SandboxState = request.app.state.sandbox
        return state.config.as_wire()

    @app.post("/_sandbox/config")
    async def set_config(request: Request, body: JsonBody) -> JSONResponse:
        """Change configuration until the next reset (processingSeconds, managedSecret, tokenPrefix, ...)."""
        try:
            request.app.state.sandbox.config.update(body)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(request.app.state.sandbox.config.as_wire())

    return app


def _matches(pattern: str, endpoint: str) -> bool:
    return pattern in (endpoint, "*", endpoint.split(".", 1)[0] + ".*")
