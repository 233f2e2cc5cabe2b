"""Who is calling: API keys (hashed) with scopes, and the operator's admin token."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from crier.core.db import autocommit_connection
from crier.core.errors import ForbiddenScope, NotFound, Unauthorized
from crier.core.settings import get_settings
from crier.tenancy import repository
from crier.tenancy.ownership import OrganizationId
from crier.tenancy.ratelimit import enforce_rate_limit

SCOPES = (
    "content:read",
    "content:write",
    "content:approve",
    "publish:read",
    "publish:write",
    "accounts:read",
    "social:read",
    "social:write",
    "webhooks:read",
    "webhooks:write",
)
KEY_PREFIX = "lp_live_"


def generate_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough; what matters is never storing the key.
    return hashlib.sha256(key.encode()).hexdigest()


def effective_scopes(granted: list[str]) -> frozenset[str]:
    """`*:write` implies the matching `*:read`."""
    scopes = set(granted)
    for scope in granted:
        resource, _, action = scope.partition(":")
        if action == "write":
            scopes.add(f"{resource}:read")
    return frozenset(scopes)


@dataclass(frozen=True)
class Principal:
    organization_id: OrganizationId
    key_id: str
    scopes: frozenset[str]


def _presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key", "").strip() or None


# A key's lookup is reused for up to KEY_CACHE_SECONDS in this process (a round trip and a pooled
# connection saved on nearly every request): a key revoked by another process (the CLI, another API
# process) stops working within that time; one revoked through this process's admin API, at once.
KEY_CACHE_SECONDS = 1.0
_KEY_CACHE_SIZE = 10_000
_known_keys: dict[str, tuple[float, Principal]] = {}  # by key hash: (valid until, principal)
# The lookup under way for a key hash: requests that miss the cache meanwhile await it rather than
# each reading the key (when a busy key's entry ran out, dozens of requests at once took a pooled
# connection each). A busy key is looked up again in the background during the last half of its
# entry's life, so its requests never wait for the lookup (that wait, behind the pool's queue, was a
# stall every second in the latency tail); the entry still reflects the database of at most 1 s ago.
_lookups: dict[str, asyncio.Future[Principal | None]] = {}
_REFRESH_AHEAD_SECONDS = KEY_CACHE_SECONDS / 2
_forgotten = [0]  # how many times the cache was dropped: a lookup begun before a drop caches nothing


def forget_api_keys() -> None:
    """Drop every cached key lookup (after a revocation)."""
    _known_keys.clear()
    _lookups.clear()
    _forgotten[0] += 1


async def _principal_for(key: str) -> Principal | None:
    key_hash = hash_api_key(key)
    cached = _known_keys.get(key_hash)
    if cached is not None:
        left = cached[0] - time.monotonic()
        if left > 0:
            if left < _REFRESH_AHEAD_SECONDS:
                _lookup(key_hash)
            return cached[1]
    # Shielded: one waiter cancelled (its client went away) must not cancel the others' lookup.
    return await asyncio.shield(_lookup(key_hash))


def _lookup(key_hash: str) -> asyncio.Future[Principal | None]:
    """The lookup under way for `key_hash`, started if there is none."""
    lookup = _lookups.get(key_hash)
    if lookup is None or lookup.get_loop() is not asyncio.get_running_loop():  # (tests run many loops)
        lookup = _lookups[key_hash] = asyncio.ensure_future(_look_up(key_hash))
        lookup.add_done_callback(functools.partial(_looked_up, key_hash))
    return lookup


def _looked_up(key_hash: str, lookup: asyncio.Future[Principal | None]) -> None:
    if _lookups.get(key_hash) is lookup:
        del _lookups[key_hash]
    if not lookup.cancelled():
        lookup.exception()  # retrieved: a failed lookup ahead has no waiter; the entry runs out instead


async def _look_up(key_hash: str) -> Principal | None:
    now, generation = time.monotonic(), _forgotten[0]
    # The key is read on a connection of its own, given back before Redis is asked: a slow or
    # black-holed Redis must not pin a pooled PostgreSQL connection per waiting request.
    async with autocommit_connection() as connection:
        row = await repository.active_key(connection, key_hash=key_hash)
    principal = (
        None
        if row is None
        else Principal(OrganizationId(row.organization_id), row.id, effective_scopes(row.scopes))
    )
    if generation != _forgotten[0]:
        return principal
    if principal is None:  # revoked or unknown: unknown keys are not cached (guessing must not fill memory)
        _known_keys.pop(key_hash, None)
    else:
        if len(_known_keys) >= _KEY_CACHE_SIZE:
            _known_keys.clear()
        _known_keys[key_hash] = (now + KEY_CACHE_SECONDS, principal)
    return principal


async def authenticate(request: Request) -> Principal:
    """The caller's principal (401 otherwise), counted against its key's rate limit; once per request."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is not None:
        return principal
    key = _presented_key(request)
    if not key:
        raise Unauthorized("Send the API key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'.")
    principal = await _principal_for(key)
    if principal is None:
        raise Unauthorized("Unknown or revoked API key.")
    request.state.principal = principal
    await enforce_rate_limit(principal.key_id)
    return principal


def require_scope(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """Dependency: the caller's key must hold `scope` (403 FORBIDDEN_SCOPE otherwise)."""

    # One dependency that awaits authenticate itself: FastAPI resolves a dependency chain at a cost
    # on every request, and the scope check needs nothing of its machinery.
    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request)
        if scope not in principal.scopes:
            raise ForbiddenScope(f"This API key lacks the '{scope}' scope.", details={"requiredScope": scope})
        return principal

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


def require_any_scope(*scopes: str) -> Callable[[Request], Awaitable[Principal]]:
    """Dependency: the caller's key must hold one of `scopes` (403 FORBIDDEN_SCOPE naming the first)."""

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request)
        if not principal.scopes.intersection(scopes):
            raise ForbiddenScope(
                f"This API key lacks the '{scopes[0]}' scope.", details={"requiredScope": scopes[0]}
            )
        return principal

    dependency.__name__ = "require_" + "_or_".join(scope.replace(":", "_") for scope in scopes)
    return dependency


def require_admin(request: Request) -> None:
    """The operator API answers only when an admin token is configured and presented."""
    configured = get_settings().admin_token
    if configured is None or not configured.get_secret_value():
        raise NotFound("The operator API is disabled: set CRIER_ADMIN_TOKEN to enable it.")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    # Compared as bytes: compare_digest refuses non-ASCII str, and a stray header must be a 401, not a 500.
    presented = token.strip().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented, configured.get_secret_value().encode()
    ):
        raise Unauthorized("Send the operator token as 'Authorization: Bearer <CRIER_ADMIN_TOKEN>'.")


ContentRead = Annotated[Principal, Depends(require_scope("content:read"))]
ContentWrite = Annotated[Principal, Depends(require_scope("content:write"))]
ContentApprove = Annotated[Principal, Depends(require_scope("content:approve"))]
PublishRead = Annotated[Principal, Depends(require_scope("publish:read"))]
PublishWrite = Annotated[Principal, Depends(require_scope("publish:write"))]
AccountsRead = Annotated[Principal, Depends(require_scope("accounts:read"))]
SocialRead = Annotated[Principal, Depends(require_scope("social:read"))]
SocialWrite = Annotated[Principal, Depends(require_scope("social:write"))]
# Partner keys that publish may manage their webhooks too (WEBHOOKS.md §1), so existing keys keep working.
WebhooksRead = Annotated[Principal, Depends(require_any_scope("webhooks:read", "publish:write"))]
WebhooksWrite = Annotated[Principal, Depends(require_any_scope("webhooks:write", "publish:write"))]
