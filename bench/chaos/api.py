"""How the chaos reads the API's answers: error codes, labels for the counters, the error envelope."""

from __future__ import annotations

import httpx


class Refused(Exception):
    def __init__(self, what: str, response: httpx.Response | None) -> None:
        super().__init__(what)
        self.label = describe(response)


def error_code(response: httpx.Response) -> str | None:
    if response.status_code < 400:
        return None
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def describe(response: httpx.Response | None) -> str:
    if response is None:
        return "no answer"
    code = error_code(response)
    return f"{response.status_code}" + (f" {code}" if code else "")


def envelope_problem(response: httpx.Response, status: int, code: str) -> str | None:
    if response.status_code != status:
        return f"status {response.status_code}, wanted {status}"
    try:
        body = response.json()
    except ValueError:
        return "body is not JSON"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(body) != {"error"}:
        return "not the error envelope"
    if set(error) != {"code", "message", "requestId", "details"}:
        return f"envelope fields {sorted(error)}"
    if error["code"] != code:
        return f"code {error['code']}, wanted {code}"
    if error["requestId"] != response.headers.get("x-request-id"):
        return "requestId differs from X-Request-Id"
    return None


def media(media_type: str, token: str) -> list[dict[str, str]]:
    base = f"https://cdn.example.com/chaos/{token}"
    if media_type == "video":
        return [{"url": f"{base}.mp4"}]
    if media_type == "image":
        return [{"url": f"{base}.jpg"}]
    return [{"url": f"{base}-{i}.jpg"} for i in range(3)]
