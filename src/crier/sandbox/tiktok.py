"""Fake TikTok Content Posting API (PLATFORMS.md §1), mounted at /tiktok.

An account is known by its token: tokens this fake issues look like `sbx-at.<account>.<n>` /
`sbx-rt.<account>.<n>`; any other token is its own account. Rotated refresh tokens are single-use.
"""

import hashlib
import time
from typing import Any, TypeGuard

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crier.sandbox.faults import Faults, fault_point
from crier.sandbox.state import SandboxState

router = APIRouter(prefix="/tiktok")

FIRST_POST_ID = 7291234567890123456  # above 2^53: a client parsing ids as floats gets them wrong
# Per access token, per window (PLATFORMS.md §7); every init endpoint shares one budget.
RATE_LIMITS = {"init": 6, "creator_info": 20, "status": 30}
PUBLIC_OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
PRIVATE_OPTIONS = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]


def _ok(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"data": data, "error": {"code": "ok", "message": "", "log_id": _log_id()}})


def _error(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse(
        {"data": {}, "error": {"code": code, "message": message, "log_id": _log_id()}}, status_code=status
    )


def _oauth_error(code: str, description: str, status: int) -> JSONResponse:
    # The OAuth endpoint has no envelope: a flat {error, error_description, log_id}.
    return JSONResponse({"error": code, "error_description": description, "log_id": _log_id()}, status)


def _unauthorized() -> JSONResponse:
    return _error("access_token_invalid", "The access token is invalid or not found in the request.", 401)


def _log_id() -> str:
    return hashlib.sha1(str(time.time_ns()).encode()).hexdigest()[:32].upper()


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def _account(request: Request) -> str | None:
    """The account a bearer token belongs to, None when the token is refused."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not token or not token.startswith(_state(request).config.token_prefix):
        return None
    return _key(token, "sbx-at.")


def _over_rate(request: Request, account: str, kind: str) -> JSONResponse | None:
    """429 rate_limit_exceeded when this token already made its calls of `kind` in the window."""
    state = _state(request)
    window = state.config.tiktok_rate_window_seconds
    if not window:
        return None
    now = time.monotonic()
    times = [at for at in state.tiktok_call_times.get((account, kind), []) if at > now - window]
    if len(times) >= RATE_LIMITS[kind]:
        state.tiktok_rate_limited += 1
        return _error("rate_limit_exceeded", f"Too many {kind} requests for this access token.", 429)
    state.tiktok_call_times[(account, kind)] = [*times, now]
    return None


def _key(token: str, prefix: str) -> str:
    rest = token.removeprefix(prefix)
    return rest.rsplit(".", 1)[0] if rest != token and "." in rest else token


def _creator(state: SandboxState, account: str) -> dict[str, Any]:
    private = state.faults.tiktok_private
    is_private = private is True or (isinstance(private, list) and any(part in account for part in private))
    name = state.config.tiktok_creator_username or "sbx_" + hashlib.sha1(account.encode()).hexdigest()[:8]
    return {
        "creator_username": name,
        "creator_nickname": "Sandbox Creator",
        "creator_avatar_url": f"https://sandbox.invalid/avatars/{name}.jpg",
        "privacy_level_options": PRIVATE_OPTIONS if is_private else PUBLIC_OPTIONS,
        "comment_disabled": False,
        "duet_disabled": False,
        "stitch_disabled": False,
        "max_video_post_duration_sec": 600,
    }


async def _json(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@router.post("/v2/post/publish/creator_info/query/")
@fault_point("tiktok.creator_info")
async def creator_info(request: Request) -> JSONResponse:
    account = _account(request)
    if account is None:
        return _unauthorized()
    return _over_rate(request, account, "creator_info") or _ok(_creator(_state(request), account))


@router.post("/v2/post/publish/video/init/")
@fault_point("tiktok.video_init")
async def video_init(request: Request) -> JSONResponse:
    account, body = _account(request), await _json(request)
    if account is None:
        return _unauthorized()
    if limited := _over_rate(request, account, "init"):
        return limited
    post_info = (body or {}).get("post_info")
    if not isinstance(post_info, dict) or not _pull_source(body, "video_url"):
        return _error(
            "invalid_params", "post_info and a PULL_FROM_URL source_info.video_url are required.", 400
        )
    problem = _direct_post_problem(_state(request), account, post_info, title_limit=2200)
    if problem:
        return problem
    return _created(request, account, "video", post_info.get("title") or "", post_info, body)


@router.post("/v2/post/publish/inbox/video/init/")
@fault_point("tiktok.inbox_video_init")
async def inbox_video_init(request: Request) -> JSONResponse:
    account, body = _account(request), await _json(request)
    if account is None:
        return _unauthorized()
    if limited := _over_rate(request, account, "init"):
        return limited
    if not _pull_source(body, "video_url") or set(body or {}) != {"source_info"}:
        return _error(
            "invalid_params", "An inbox video init takes only source_info (PULL_FROM_URL video_url).", 400
        )
    problem = _pending_share_problem(_state(request), account)
    return problem or _created(request, account, "inbox_video", "", {}, body)


@router.post("/v2/post/publish/content/init/")
@fault_point("tiktok.content_init")
async def content_init(request: Request) -> JSONResponse:
    account, body = _account(request), await _json(request) or {}
    if account is None:
        return _unauthorized()
    if limited := _over_rate(request, account, "init"):
        return limited
    post_info, source = body.get("post_info"), body.get("source_info")
    images = source.get("photo_images") if isinstance(source, dict) else None
    if (
        body.get("media_type") != "PHOTO"
        or body.get("post_mode") not in ("DIRECT_POST", "MEDIA_UPLOAD")
        or not isinstance(post_info, dict)
        or not isinstance(images, list)
        or not 1 <= len(images) <= 35
        or not isinstance(source, dict)
        or source.get("source") != "PULL_FROM_URL"
        or not 0 <= int(source.get("photo_cover_index", 0)) < len(images)
    ):
        return _error(
            "invalid_params", "media_type PHOTO, a post_mode, post_info and 1-35 photo_images.", 400
        )
    if len(str(post_info.get("title", ""))) > 90 or len(str(post_info.get("description", ""))) > 4000:
        return _error("invalid_params", "title is limited to 90 and description to 4000 characters.", 400)
    caption = str(post_info.get("description") or post_info.get("title") or "")
    if body["post_mode"] == "MEDIA_UPLOAD":
        if not set(post_info) <= {"title", "description"}:
            return _error(
                "invalid_params", "A MEDIA_UPLOAD post_info carries only title and description.", 400
            )
        problem = _pending_share_problem(_state(request), account)
        return problem or _created(request, account, "photo_draft", caption, post_info, body)
    if "disable_duet" in post_info or "disable_stitch" in post_info:
        return _error("invalid_params", "Photo posts take no duet or stitch settings.", 400)
    problem = _direct_post_problem(_state(request), account, post_info, title_limit=90)
    return problem or _created(request, account, "photo", caption, post_info, body)


@router.post("/v2/post/publish/status/fetch/")
@fault_point("tiktok.status_fetch")
async def status_fetch(request: Request) -> JSONResponse:
    state, account, body = _state(request), _account(request), await _json(request) or {}
    if account is None:
        return _unauthorized()
    if limited := _over_rate(request, account, "status"):
        return limited
    publish = state.tiktok_publishes.get(str(body.get("publish_id") or ""))
    if publish is None or publish["_account"] != account:
        return _error("invalid_params", "publish_id is unknown.", 400)
    settle(state, publish)
    data: dict[str, Any] = {"status": publish["status"], "uploaded_bytes": 0, "downloaded_bytes": 1048576}
    if publish["status"] == "FAILED":
        data["fail_reason"] = publish["fail_reason"]
    if publish["status"] == "PUBLISH_COMPLETE":
        data["publicaly_available_post_id"] = [] if publish["_hide_id"] else [publish["post_id"]]
    # JSONResponse writes Python ints exactly: the id goes out as a raw int64 JSON number.
    return _ok(data)


def settle(state: SandboxState, publish: dict[str, Any]) -> None:
    """Move a publish past PROCESSING_DOWNLOAD once its processing time is over."""
    if publish["status"] != "PROCESSING_DOWNLOAD" or not state.due(publish, state.config.processing_seconds):
        return
    rule = state.faults.tiktok_fail
    hit, state.faults.tiktok_fail = Faults.spend(rule)
    if hit:
        publish.update(status="FAILED", fail_reason=(rule or {}).get("reason") or "file_format_check_failed")
        state.failed_one("tiktok", _counted_as(publish["caption"], publish["request"]))
    elif publish["kind"] in ("inbox_video", "photo_draft"):
        publish["status"] = "SEND_TO_USER_INBOX"
    else:
        post_id = FIRST_POST_ID + state.number()
        publish.update(status="PUBLISH_COMPLETE", post_id=post_id)
        state.tiktok_posts.append(
            {
                "post_id": post_id,
                "publish_id": publish["publish_id"],
                "caption": publish["caption"],
                "kind": publish["kind"],
                "username": publish["username"],
                "_account": publish["_account"],
                "_title": publish["_title"],
                "_created": publish["_created"],
                "_listed": publish["privacy_level"] != "SELF_ONLY",
            }
        )


@router.post("/v2/video/list/")
@fault_point("tiktok.video_list")
async def video_list(request: Request) -> JSONResponse:
    """The Display API's list of the creator's public videos, newest first (PLATFORMS.md §6)."""
    state, account, body = _state(request), _account(request), await _json(request) or {}
    if account is None:
        return _unauthorized()
    for publish in state.tiktok_publishes.values():
        settle(state, publish)  # a post becomes listed once processed, polled or not
    fields = [field for field in request.query_params.get("fields", "id").split(",") if field]
    listed = [
        post for post in reversed(state.tiktok_posts) if post["_account"] == account and post["_listed"]
    ]
    try:
        start, size = int(body.get("cursor") or 0), min(20, int(body.get("max_count") or 20))
    except (TypeError, ValueError):
        return _error("invalid_params", "cursor and max_count are integers.", 400)
    page = listed[start : start + size]
    values = [
        {
            "id": str(post["post_id"]),
            "title": post["_title"],
            "create_time": int(post["_created"]),
            "share_url": f"https://www.tiktok.com/@{post['username']}/video/{post['post_id']}",
        }
        for post in page
    ]
    videos = [{key: value for key, value in video.items() if key in fields} for video in values]
    return _ok({"videos": videos, "cursor": start + len(page), "has_more": start + len(page) < len(listed)})


def _pull_source(body: dict[str, Any] | None, field: str) -> TypeGuard[dict[str, Any]]:
    source = (body or {}).get("source_info")
    return (
        isinstance(source, dict)
        and source.get("source") == "PULL_FROM_URL"
        and str(source.get(field, "")).startswith(("http://", "https://"))
    )


def _direct_post_problem(
    state: SandboxState, account: str, post_info: dict[str, Any], *, title_limit: int
) -> JSONResponse | None:
    if len(str(post_info.get("title", ""))) > title_limit:
        return _error("invalid_params", f"title is limited to {title_limit} characters.", 400)
    if post_info.get("privacy_level") not in _creator(state, account)["privacy_level_options"]:
        return _error(
            "privacy_level_option_mismatch", "privacy_level is not one of the creator's options.", 403
        )
    limit = state.config.tiktok_daily_post_limit
    if limit is not None and _count(state, account, ("video", "photo")) >= limit:
        return _error("spam_risk_too_many_posts", "The creator reached the daily post limit.", 403)
    return None


def _pending_share_problem(state: SandboxState, account: str) -> JSONResponse | None:
    limit = state.config.tiktok_pending_share_limit
    if limit is not None and _count(state, account, ("inbox_video", "photo_draft")) >= limit:
        return _error("spam_risk_too_many_pending_share", "Too many pending inbox shares in 24 hours.", 403)
    return None


def _count(state: SandboxState, account: str, kinds: tuple[str, ...]) -> int:
    # Counted since the last reset: the caps are off by default and tests reset between runs.
    return sum(1 for p in state.tiktok_publishes.values() if p["_account"] == account and p["kind"] in kinds)


def _created(
    request: Request,
    account: str,
    kind: str,
    caption: str,
    post_info: dict[str, Any],
    body: dict[str, Any],
) -> JSONResponse:
    state = _state(request)
    prefix = "p" if kind.startswith("photo") else "v"
    publish_id = f"{prefix}_pub_url~v2.{state.number():012d}"
    hide = state.faults.tiktok_hide_post_id or post_info.get("privacy_level") == "SELF_ONLY"
    state.tiktok_publishes[publish_id] = {
        "publish_id": publish_id,
        "kind": kind,
        "caption": caption,
        "username": _creator(state, account)["creator_username"],
        "privacy_level": post_info.get("privacy_level"),
        "status": "PROCESSING_DOWNLOAD",
        "request": body,
        "_account": account,
        "_title": str(post_info.get("title") or ""),
        "_created": time.time(),
        "_started": time.monotonic(),
        "_hide_id": hide,
    }
    state.created_one("tiktok", _counted_as(caption, body))
    return _ok({"publish_id": publish_id})


def _counted_as(caption: str, body: dict[str, Any]) -> str:
    """What a publish is counted under: its caption, or for an inbox video (none) its video URL."""
    return caption or str(body["source_info"]["video_url"])
