"""Fake Instagram Graph API content publishing (PLATFORMS.md §2), mounted at /instagram/v25.0,
and the Instagram Login token refresh at /instagram-refresh."""

import hashlib
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crier.sandbox.faults import Faults, fault_point
from crier.sandbox.state import SandboxState
from crier.sandbox.wire import form_dict

router = APIRouter(prefix="/instagram/v25.0")
refresh_router = APIRouter(prefix="/instagram-refresh")

PERSONAL_MESSAGE = "The user is not an Instagram Business"
UNCAPPED_QUOTA = 1_000_000


def _error(code: int, message: str, *, subcode: int | None = None, status: int = 400) -> JSONResponse:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "is_transient": code in (1, 2),
        "fbtrace_id": "A" + hashlib.sha1(str(time.time_ns()).encode()).hexdigest()[:10],
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=status)


def _missing(object_id: str) -> JSONResponse:
    return _error(
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded "
        f"due to missing permissions, or does not support this operation.",
        subcode=33,
    )


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


async def _params(request: Request) -> tuple[dict[str, str], JSONResponse | None]:
    """Query, form or JSON parameters merged, and an error when the access token is missing."""
    params = dict(request.query_params)
    if request.method == "POST":
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await request.json()
            params.update({key: str(value) for key, value in (body or {}).items()})
        else:
            params.update(await form_dict(request))
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else params.get("access_token", "")
    if not token or not token.startswith(_state(request).config.token_prefix):
        return params, _error(190, "Invalid OAuth access token - Cannot parse access token")
    return params, None


def _graph_id(state: SandboxState) -> str:
    return f"1789{state.number():013d}"


def _personal(state: SandboxState, ig_user: str) -> JSONResponse | None:
    if ig_user in state.faults.instagram_personal:
        return _error(10, PERSONAL_MESSAGE)
    return None


@router.post("/{ig_user}/media")
@fault_point("instagram.media_create")
async def create_container(request: Request, ig_user: str) -> JSONResponse:
    state = _state(request)
    params, problem = await _params(request)
    problem = problem or _personal(state, ig_user)
    if problem:
        return problem
    media_type, caption = params.get("media_type", "IMAGE").upper(), params.get("caption", "")
    if len(caption) > 2200:
        return _error(100, "The caption is longer than 2200 characters.", subcode=2207028)
    if params.get("is_carousel_item") == "true":
        if media_type == "VIDEO" and params.get("video_url"):
            kind = "carousel_video"
        elif media_type == "IMAGE" and params.get("image_url"):
            kind = "carousel_image"
        else:
            return _error(100, "A carousel item needs image_url, or media_type=VIDEO with video_url.")
    elif media_type == "REELS":
        if not params.get("video_url"):
            return _error(100, "The parameter video_url is required for REELS.")
        kind = "reel"
    elif media_type == "CAROUSEL":
        children = [child for child in params.get("children", "").split(",") if child]
        valid = all(
            state.ig_containers.get(child, {}).get("kind", "").startswith("carousel_")
            and state.ig_containers[child]["ig_user"] == ig_user
            for child in children
        )
        if not 2 <= len(children) <= 10 or not valid:
            return _error(100, "(#100) The parameter children must list 2 to 10 carousel item containers.")
        kind = "carousel"
    elif media_type == "VIDEO":
        return _error(
            100, "The VIDEO media_type is no longer supported for feed posts; use REELS.", subcode=2207023
        )
    elif params.get("image_url"):
        kind = "image"
    else:
        return _error(100, "The parameter image_url is required.")
    container_id = _graph_id(state)
    rule = state.faults.instagram_container_error
    hit, state.faults.instagram_container_error = Faults.spend(rule)
    state.ig_containers[container_id] = {
        "id": container_id,
        "ig_user": ig_user,
        "kind": kind,
        "caption": caption,
        "status_code": "IN_PROGRESS",
        "share_to_feed": params.get("share_to_feed"),
        "children": params.get("children"),
        "media_url": params.get("image_url") or params.get("video_url"),
        "media_id": None,
        "_started": time.monotonic(),
        "_ends": ((rule or {}).get("status") or "Error: Media upload has failed with error code 2207082")
        if hit
        else None,
    }
    return JSONResponse({"id": container_id})


@router.post("/{ig_user}/media_publish")
@fault_point("instagram.media_publish")
async def media_publish(request: Request, ig_user: str) -> JSONResponse:
    state = _state(request)
    params, problem = await _params(request)
    problem = problem or _personal(state, ig_user)
    if problem:
        return problem
    container = state.ig_containers.get(params.get("creation_id", ""))
    if container is None or container["ig_user"] != ig_user:
        return _error(24, "The requested resource does not exist.", subcode=2207008)
    _settle(state, container)
    if container["kind"].startswith("carousel_"):
        return _error(100, "A carousel item container cannot be published on its own.")
    if container["status_code"] == "IN_PROGRESS":
        return _error(9007, "Media ID is not available", subcode=2207027)
    if container["status_code"] != "FINISHED":
        return _error(100, f"The container is {container['status_code']} and cannot be published.")
    limit = state.config.instagram_daily_limit
    if limit is not None and sum(1 for m in state.ig_media.values() if m["_owner"] == ig_user) >= limit:
        return _error(9, "Application request limit reached", subcode=2207042)
    media_id = _graph_id(state)
    shortcode = hashlib.sha1(media_id.encode()).hexdigest()[:11]
    path = "reel" if container["kind"] == "reel" else "p"
    state.ig_media[media_id] = {
        "id": media_id,
        "caption": container["caption"],
        "container_id": container["id"],
        "media_type": {"reel": "VIDEO", "carousel": "CAROUSEL_ALBUM"}.get(container["kind"], "IMAGE"),
        "permalink": f"https://www.instagram.com/{path}/{shortcode}/",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "_owner": ig_user,
    }
    container.update(status_code="PUBLISHED", media_id=media_id)
    state.created_one("instagram", container["caption"])
    return JSONResponse({"id": media_id})


@router.get("/{ig_user}/media")
@fault_point("instagram.media_list")
async def list_media(request: Request, ig_user: str) -> JSONResponse:
    state = _state(request)
    params, problem = await _params(request)
    if problem:
        return problem
    fields = params.get("fields", "id").split(",")
    owned = [media for media in reversed(state.ig_media.values()) if media["_owner"] == ig_user]
    data = [{field: media.get(field) for field in fields if field in media} for media in owned]
    return JSONResponse({"data": data[: int(params.get("limit", 25))], "paging": {"cursors": {}}})


@router.get("/{ig_user}/content_publishing_limit")
@fault_point("instagram.publishing_limit")
async def publishing_limit(request: Request, ig_user: str) -> JSONResponse:
    state = _state(request)
    _, problem = await _params(request)
    if problem:
        return problem
    used = sum(1 for media in state.ig_media.values() if media["_owner"] == ig_user)
    # What media_publish enforces: instagramDailyLimit when set, otherwise no cap worth reaching (load
    # runs publish far more than a real account's 100 a day, and the quota must say the same).
    total = state.config.instagram_daily_limit or UNCAPPED_QUOTA
    return JSONResponse(
        {"data": [{"quota_usage": used, "config": {"quota_total": total, "quota_duration": 86400}}]}
    )


@router.post("/{media_id}/comments")
@fault_point("instagram.comments")
async def comment(request: Request, media_id: str) -> JSONResponse:
    state = _state(request)
    params, problem = await _params(request)
    if problem:
        return problem
    if media_id not in state.ig_media:
        return _missing(media_id)
    if not params.get("message"):
        return _error(100, "The parameter message is required.")
    comment_id = _graph_id(state)
    state.ig_comments.append({"id": comment_id, "media_id": media_id, "message": params["message"]})
    return JSONResponse({"id": comment_id})


@router.get("/{object_id}")
@fault_point("instagram.object_read")
async def read_object(request: Request, object_id: str) -> JSONResponse:
    state = _state(request)
    params, problem = await _params(request)
    if problem:
        return problem
    fields = [field for field in params.get("fields", "id").split(",") if field]
    if object_id in state.ig_containers:
        container = _settle(state, state.ig_containers[object_id])
        status = container["_ends"] if container["status_code"] == "ERROR" else container["status_code"]
        values = {"id": object_id, "status_code": container["status_code"], "status": status}
    elif object_id in state.ig_media:
        if "permalink" in fields:
            rule = state.faults.permalink_fails
            hit, state.faults.permalink_fails = Faults.spend(rule)
            if hit:
                # The Graph bug integrators report: a fresh media id reads as "does not exist".
                return (
                    _error(2, "An unexpected error has occurred.", status=500)
                    if (rule or {}).get("status") == 500
                    else _missing(object_id)
                )
        values = state.ig_media[object_id]
    else:
        return _missing(object_id)
    return JSONResponse({field: values.get(field) for field in ["id", *fields] if field in values})


@refresh_router.get("/refresh_access_token")
@fault_point("instagram.refresh")
async def refresh_access_token(request: Request) -> JSONResponse:
    state = _state(request)
    token = request.query_params.get("access_token", "")
    if request.query_params.get("grant_type") != "ig_refresh_token":
        return _error(100, "grant_type must be ig_refresh_token.")
    if not token or not token.startswith(state.config.token_prefix):
        return _error(190, "Invalid OAuth access token - Cannot parse access token")
    state.ig_refreshes += 1
    return JSONResponse(
        {
            "access_token": f"{state.config.token_prefix}sbx-ig.{state.number()}",
            "token_type": "bearer",
            "expires_in": 5183944,
        }
    )


def _settle(state: SandboxState, container: dict[str, Any]) -> dict[str, Any]:
    """IN_PROGRESS → FINISHED (or the scripted ERROR) once processing time is over."""
    if container["status_code"] == "IN_PROGRESS" and state.due(container, state.config.processing_seconds):
        container["status_code"] = "ERROR" if container["_ends"] else "FINISHED"
    return container
