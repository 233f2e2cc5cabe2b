"""Fake managed-distribution provider (PLATFORMS.md §4), mounted at /managed.

Dispatches are deduplicated on Idempotency-Key and every POST's X-Crier-Signature is verified
against the configured secret (default "sandbox-secret") over the exact bytes received.
"""

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crier.sandbox.faults import Faults, fault_point
from crier.sandbox.state import SandboxState
from crier.sandbox.tiktok import FIRST_POST_ID

router = APIRouter(prefix="/managed")

REQUIRED = ("scheduledPostId", "platform", "account", "mediaType", "media", "caption")


def _error(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def signature_problem(header: str, body: bytes, secret: str, tolerance: float) -> str | None:
    """Why an X-Crier-Signature header does not sign `body`, or None when it does."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return "the signature header lacks t=<unix seconds>"
    if abs(time.time() - timestamp) > tolerance:
        return "the signature timestamp is outside the tolerance"
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        return "the v1 signature does not match the body"
    return None


@router.post("/v1/dispatches")
@fault_point("managed.dispatch_create")
async def create_dispatch(request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    state.dispatch_requests += 1
    raw = await request.body()
    problem = signature_problem(
        request.headers.get("x-crier-signature", ""),
        raw,
        state.config.managed_secret,
        state.config.signature_tolerance_seconds,
    )
    if problem:
        return _error("invalid_signature", problem, 401)
    key = request.headers.get("idempotency-key", "")
    if not key:
        return _error("idempotency_key_required", "An Idempotency-Key header is required.", 400)
    try:
        payload = json.loads(raw)
    except ValueError:
        return _error("invalid_body", "The body is not JSON.", 400)
    missing = [name for name in REQUIRED if not isinstance(payload, dict) or name not in payload]
    if missing:
        return _error("invalid_body", f"Missing fields: {', '.join(missing)}.", 422)
    if key in state.dispatch_keys:
        existing = state.dispatches[state.dispatch_keys[key]]
        if existing["request"] != payload:
            return _error("idempotency_key_reused", "This Idempotency-Key was used with another body.", 409)
        return JSONResponse({"dispatchId": existing["dispatchId"], "status": "accepted"}, status_code=202)
    dispatch_id = f"dsp_{uuid.uuid4().hex}"
    state.dispatch_keys[key] = dispatch_id
    state.dispatches[dispatch_id] = {
        "dispatchId": dispatch_id,
        "idempotencyKey": key,
        "status": "pending",
        "request": payload,
        "externalId": None,
        "externalUrl": None,
        "error": None,
        "_started": time.monotonic(),
    }
    state.created_one("managed", str(payload["caption"]))
    return JSONResponse({"dispatchId": dispatch_id, "status": "accepted"}, status_code=202)


@router.get("/v1/dispatches/{dispatch_id}")
@fault_point("managed.dispatch_read")
async def read_dispatch(request: Request, dispatch_id: str) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    dispatch = state.dispatches.get(dispatch_id)
    if dispatch is None:
        return _error("not_found", "No such dispatch.", 404)
    _settle(state, dispatch)
    return JSONResponse(
        {key: dispatch[key] for key in ("dispatchId", "status", "externalId", "externalUrl", "error")}
    )


def _settle(state: SandboxState, dispatch: dict[str, Any]) -> None:
    if dispatch["status"] != "pending" or not state.due(dispatch, state.config.processing_seconds):
        return
    rule = state.faults.managed_fail
    hit, state.faults.managed_fail = Faults.spend(rule)
    if hit:
        dispatch.update(
            status="failed",
            error={
                "code": (rule or {}).get("code") or "provider_rejected",
                "message": (rule or {}).get("message") or "The provider could not publish the post.",
            },
        )
        return
    payload = dispatch["request"]
    handle = str((payload.get("account") or {}).get("handle", "creator")).lstrip("@")
    if payload.get("platform") == "tiktok":
        external_id = str(FIRST_POST_ID + state.number())
        url = f"https://www.tiktok.com/@{handle}/video/{external_id}"
    else:
        external_id = f"1789{state.number():013d}"
        url = f"https://www.instagram.com/p/{hashlib.sha1(external_id.encode()).hexdigest()[:11]}/"
    dispatch.update(status="published", externalId=external_id, externalUrl=url)
