"""Scriptable failures: the next N calls of an endpoint answer an error, slowly, or after acting.

A call fault (POST /_sandbox/faults {"calls": [...]}) has:
  endpoint    "tiktok.video_init", "instagram.*" or "*" (see ENDPOINTS)
  times       how many matching calls it hits (default 1; 0 = every call until reset)
  status      HTTP status of the answer (default per error: 401 token, 429 rate limit, 500 ...)
  error       the platform's code: "spam_risk_too_many_posts" (TikTok), 190 (Graph), 21211 (Twilio) ...
  subcode     Graph error_subcode
  message     text of the error
  retryAfter  seconds, sent as a Retry-After header
  latency     seconds to wait before answering
  apply       true: the call takes effect (the post is created) and then the fault answers,
              like a platform that acted and whose answer was lost or garbled
"""

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar, cast

from fastapi import Request
from fastapi.responses import JSONResponse

ENDPOINTS = (
    "tiktok.oauth_token",
    "tiktok.creator_info",
    "tiktok.video_init",
    "tiktok.inbox_video_init",
    "tiktok.content_init",
    "tiktok.status_fetch",
    "tiktok.user_info",
    "tiktok.oauth_revoke",
    "tiktok.video_list",
    "instagram.media_create",
    "instagram.media_list",
    "instagram.media_publish",
    "instagram.object_read",
    "instagram.comments",
    "instagram.publishing_limit",
    "instagram.refresh",
    "instagram.oauth_token",
    "instagram.token_exchange",
    "instagram.me",
    "twilio.messages",
    "twilio.message_list",
    "twilio.message_read",
    "managed.dispatch_create",
    "managed.dispatch_read",
)

_DEFAULT_STATUS = {
    "access_token_invalid": 401,
    "scope_not_authorized": 401,
    "scope_permission_missed": 400,
    "invalid_params": 400,
    "invalid_param": 400,
    "rate_limit_exceeded": 429,
    "internal_error": 500,
    "invalid_grant": 200,  # TikTok answers a refused refresh with HTTP 200 too
    20003: 401,
    20429: 429,
}


@dataclass
class CallFault:
    endpoint: str
    times: int = 1
    status: int | None = None
    error: str | int | None = None
    subcode: int | None = None
    message: str | None = None
    retry_after: float | None = None
    latency: float = 0.0
    apply: bool = False

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> "CallFault":
        return cls(
            endpoint=str(raw["endpoint"]),
            times=int(raw.get("times", 1)),
            status=raw.get("status"),
            error=raw.get("error"),
            subcode=raw.get("subcode"),
            message=raw.get("message"),
            retry_after=raw.get("retryAfter"),
            latency=float(raw.get("latency", 0.0)),
            apply=bool(raw.get("apply", False)),
        )

    def matches(self, endpoint: str) -> bool:
        family = endpoint.split(".", 1)[0]
        return self.endpoint in (endpoint, "*", f"{family}.*")

    @property
    def answers(self) -> bool:
        return self.status is not None or self.error is not None


@dataclass
class Faults:
    """Everything scripted since the last reset."""

    calls: list[CallFault] = field(default_factory=list)
    latency: dict[str, float] = field(default_factory=dict)  # endpoint (or "*") → seconds, every call
    instagram_personal: list[str] = field(default_factory=list)  # ig-user-ids answering code 10
    tiktok_private: list[str] | bool = False  # token substrings (True: all) of private creators
    tiktok_fail: dict[str, Any] | None = None  # {"reason", "times"}: next publishes end FAILED
    tiktok_hide_post_id: bool = False  # PUBLISH_COMPLETE without publicaly_available_post_id
    instagram_container_error: dict[str, Any] | None = None  # {"status", "times"}: next containers ERROR
    permalink_fails: dict[str, Any] | None = None  # {"times", "status"}: permalink reads fail (100/33)
    managed_fail: dict[str, Any] | None = None  # {"code", "message", "times"}: next dispatches fail
    twilio_unsubscribed: list[str] = field(default_factory=list)  # numbers answering 21610

    def update(self, raw: dict[str, Any]) -> None:
        """Merge a POST /_sandbox/faults body: calls are appended, the rest replaced."""
        self.calls += [CallFault.parse(item) for item in raw.get("calls", [])]
        self.latency.update({key: float(value) for key, value in (raw.get("latency") or {}).items()})
        lists = {
            "instagramPersonal": "instagram_personal",
            "tiktokPrivate": "tiktok_private",
            "tiktokHidePostId": "tiktok_hide_post_id",
            "twilioUnsubscribed": "twilio_unsubscribed",
        }
        rules = {
            "tiktokFail": "tiktok_fail",
            "instagramContainerError": "instagram_container_error",
            "permalinkFails": "permalink_fails",
            "managedFail": "managed_fail",
        }
        for key, attribute in lists.items():
            if key in raw:
                setattr(self, attribute, raw[key])
        for key, attribute in rules.items():
            if key in raw:
                # true: every time until reset; false/null: off; an object: {"times": n, ...}
                value = raw[key]
                setattr(self, attribute, {"times": 0} if value is True else (value or None))

    def take(self, endpoint: str) -> CallFault | None:
        """The first call fault matching `endpoint`, spending one of its `times`."""
        for fault in self.calls:
            if fault.matches(endpoint):
                if fault.times == 1:
                    self.calls.remove(fault)
                elif fault.times > 1:
                    fault.times -= 1
                return fault
        return None

    def delay(self, endpoint: str) -> float:
        return self.latency.get(endpoint, self.latency.get("*", 0.0))

    @staticmethod
    def spend(rule: dict[str, Any] | None) -> tuple[bool, dict[str, Any] | None]:
        """Apply a {"times": n} rule once: (hit?, rule left afterwards); times 0 means forever."""
        if not rule:
            return False, rule
        times = int(rule.get("times", 0))
        if times == 0:
            return True, rule
        return True, ({**rule, "times": times - 1} if times > 1 else None)

    def snapshot(self) -> dict[str, Any]:
        return {
            "calls": [vars(fault) for fault in self.calls],
            "latency": self.latency,
            "instagramPersonal": self.instagram_personal,
            "tiktokPrivate": self.tiktok_private,
            "tiktokFail": self.tiktok_fail,
            "tiktokHidePostId": self.tiktok_hide_post_id,
            "instagramContainerError": self.instagram_container_error,
            "permalinkFails": self.permalink_fails,
            "managedFail": self.managed_fail,
            "twilioUnsubscribed": self.twilio_unsubscribed,
        }


_P = ParamSpec("_P")
_R = TypeVar("_R")


def fault_point(
    endpoint: str,
) -> Callable[[Callable[_P, Awaitable[_R]]], Callable[_P, Awaitable[_R | JSONResponse]]]:
    """Route decorator: count the call, apply latency and scripted faults, then run the route."""

    def decorate(route: Callable[_P, Awaitable[_R]]) -> Callable[_P, Awaitable[_R | JSONResponse]]:
        @functools.wraps(route)
        async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R | JSONResponse:
            request = cast(Request, kwargs["request"])  # every faulted route takes `request` by name
            state = request.app.state.sandbox
            state.calls[endpoint] = state.calls.get(endpoint, 0) + 1
            fault = state.faults.take(endpoint)
            delay = state.faults.delay(endpoint) + (fault.latency if fault else 0.0)
            if fault and fault.apply:
                # The platform acts first and answers late (or wrongly): a caller that gives up or
                # dies while waiting still leaves the post created, as a real platform would.
                response = await route(*args, **kwargs)
                if delay:
                    await asyncio.sleep(delay)
                return render(endpoint, fault) if fault.answers else response
            if delay:
                await asyncio.sleep(delay)
            if fault and fault.answers:
                return render(endpoint, fault)
            return await route(*args, **kwargs)

        return wrapper

    return decorate


def render(endpoint: str, fault: CallFault) -> JSONResponse:
    """The fault as the platform behind `endpoint` would spell it."""
    family = endpoint.split(".", 1)[0]
    status = fault.status or _DEFAULT_STATUS.get(fault.error or "", 500 if fault.error is None else 400)
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
    if endpoint == "tiktok.oauth_token":
        code = fault.error or ("invalid_grant" if status < 500 else "server_error")
        body: dict[str, Any] = {
            "error": code,
            "error_description": fault.message or "Sandbox fault.",
            "log_id": _log_id(),
        }
    elif family == "tiktok":
        code = fault.error or {429: "rate_limit_exceeded", 401: "access_token_invalid"}.get(
            status, "internal_error" if status >= 500 else "invalid_params"
        )
        body = {
            "data": {},
            "error": {
                "code": code,
                "message": fault.message or f"Sandbox fault: {code}",
                "log_id": _log_id(),
            },
        }
    elif family == "instagram":
        code = (
            fault.error if fault.error is not None else (4 if status == 429 else 2 if status >= 500 else 100)
        )
        error: dict[str, Any] = {
            "message": fault.message or f"(#{code}) Sandbox fault.",
            "type": "OAuthException",
            "code": code,
            "is_transient": code in (1, 2),
            "fbtrace_id": _log_id()[:11],
        }
        if fault.subcode is not None:
            error["error_subcode"] = fault.subcode
        body = {"error": error}
    elif family == "twilio":
        code = fault.error or {429: 20429, 401: 20003}.get(status, 20500 if status >= 500 else 21211)
        body = {
            "code": code,
            "message": fault.message or "Sandbox fault.",
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
    else:
        code = fault.error or ("internal" if status >= 500 else "rejected")
        body = {"error": {"code": code, "message": fault.message or "Sandbox fault."}}
    return JSONResponse(body, status_code=status, headers=headers)


def _log_id() -> str:
    return uuid.uuid4().hex.upper()
