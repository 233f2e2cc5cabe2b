"""The OAuth connect flow (ACCOUNTS.md): authorize URLs with single-use hashed states, and the
callback that turns a consent into a connected account.

The callback runs three short transactions (consume the state; store the account; or record the
failure), none open while a platform answers.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from crier.accounts import repository
from crier.core import crypto
from crier.core.clock import utcnow
from crier.core.errors import CrierError, NotFound, validation_error
from crier.core.ids import new_id
from crier.core.settings import Settings
from crier.core.vocabulary import Platform
from crier.models import OAuthState, SocialAccount
from crier.platforms.oauth import ConnectedIdentity, OAuthFailed
from crier.platforms.oauth import instagram as instagram_oauth
from crier.platforms.oauth import tiktok as tiktok_oauth
from crier.tenancy.auth import Principal
from crier.tenancy.ownership import owned_or_404
from crier.tenancy.projects import get_project

log = logging.getLogger(__name__)

STATE_PREFIX = "st_"
STATE_TTL = timedelta(minutes=10)
# 32 random bytes: 256 bits, past the contract's 128 even if half were lost to a bad encoder.
STATE_BYTES = 32
PLATFORM_SCOPES: dict[str, ModuleType] = {Platform.TIKTOK: tiktok_oauth, Platform.INSTAGRAM: instagram_oauth}
# A platform's `error` is echoed to the partner only when it looks like an OAuth error code.
ERROR_CODE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")


class ReturnUrlNotAllowed(CrierError):
    status, code, message = (
        403,
        "RETURN_URL_NOT_ALLOWED",
        "The returnUrl's host is not allowed for this API key.",
    )


class PlatformNotConfigured(CrierError):
    # A 403, not a 503: retrying will not help; the operator must set the app credentials.
    status, code, message = (
        403,
        "PLATFORM_NOT_CONFIGURED",
        "This Crier has no app credentials for the platform.",
    )


@dataclass(frozen=True)
class AuthorizeUrl:
    authorize_url: str
    state: str
    expires_at: datetime


@dataclass(frozen=True)
class CallbackAnswer:
    """Where the browser goes: a redirect to the partner, or (unknown state) a plain 400 page."""

    redirect_to: str | None


def hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def callback_url(settings: Settings, platform: str) -> str:
    return f"{(settings.public_url or '').rstrip('/')}/oauth/callback/{platform}"


async def create_authorize_url(
    session: AsyncSession,
    *,
    principal: Principal,
    settings: Settings,
    project_id: str,
    platform: str | None,
    return_url: str,
    scopes: list[str] | None,
    usage_note: str | None = None,
    reauth_account_id: str | None = None,
) -> AuthorizeUrl:
    """Check the project, the returnUrl and the scopes, then store a fresh state (hashed).

    A reauth (`reauth_account_id`) passes no platform: it is the account's.
    """
    await get_project(session, organization_id=principal.organization_id, project_id=project_id)
    if reauth_account_id is not None:
        platform = (
            await _reauth_target(
                session, principal=principal, project_id=project_id, account_id=reauth_account_id
            )
        ).platform
    assert platform is not None  # a connect names its platform; a reauth took the account's
    _ensure_configured(settings, platform)
    allowed = await repository.allowed_return_hosts(session, key_id=principal.key_id)
    _ensure_return_url_allowed(return_url, allowed)
    requested = _resolve_scopes(platform, scopes)
    state = STATE_PREFIX + secrets.token_urlsafe(STATE_BYTES)
    redirect_uri = callback_url(settings, platform)
    verifier = None
    if platform == Platform.TIKTOK:
        verifier = secrets.token_urlsafe(64)  # 86 characters, inside PKCE's 43..128
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        url = tiktok_oauth.authorize_url(
            settings, state=state, scopes=requested, redirect_uri=redirect_uri, code_challenge=challenge
        )
    else:
        url = instagram_oauth.authorize_url(
            settings, state=state, scopes=requested, redirect_uri=redirect_uri
        )
    expires_at = utcnow() + STATE_TTL
    session.add(
        OAuthState(
            state_hash=hash_state(state),
            organization_id=principal.organization_id,
            project_id=project_id,
            api_key_id=principal.key_id,
            platform=platform,
            return_url=return_url,
            usage_note=usage_note,
            requested_scopes=requested,
            code_verifier_encrypted=crypto.encrypt(verifier) if verifier else None,
            reauth_social_account_id=reauth_account_id,
            status="pending",
            expires_at=expires_at,
        )
    )
    await session.flush()
    return AuthorizeUrl(url, state, expires_at)


async def get_status(session: AsyncSession, *, organization_id: str, state: str) -> dict[str, Any]:
    """Where a connect stands; another organization's state is not found."""
    row = None
    if state.startswith(STATE_PREFIX) and len(state) <= 200:
        row = await repository.find_state(
            session, state_hash=hash_state(state), organization_id=organization_id
        )
    if row is None:
        raise NotFound("OAuth state not found.")
    answer: dict[str, Any] = {
        "status": row.status,
        "platform": row.platform,
        "socialAccountId": row.social_account_id,
    }
    if row.status == "failed":
        answer["error"] = {"code": row.error_code, "message": row.error_message}
    elif row.status == "pending" and row.expires_at <= utcnow():
        answer["status"] = "failed"
        answer["error"] = {
            "code": "state_expired",
            "message": "The end customer did not finish within 10 minutes.",
        }
    return answer


async def handle_callback(
    *, platform: str, params: dict[str, str], http: httpx.AsyncClient, settings: Settings
) -> CallbackAnswer:
    """The platform sent the end customer back: finish the connect and say where the browser goes."""
    state = params.get("state", "")
    if not state.startswith(STATE_PREFIX) or len(state) > 200:
        return CallbackAnswer(None)
    state_hash = hash_state(state)
    async with repository.transaction() as session:
        row = await repository.find_state(session, state_hash=state_hash)
        if row is None or row.platform != platform:
            return CallbackAnswer(None)  # forged, or another platform's: nothing to redirect to
        consumed = await repository.consume_state(session, state_hash=state_hash)
        return_url = row.return_url
        if consumed is None:
            log.warning("oauth.state_refused", extra={"platform": platform, "projectId": row.project_id})
            return CallbackAnswer(
                _with_query(return_url, layers_state=state, layers_oauth_error="state_invalid")
            )
        verifier = (
            crypto.decrypt(consumed.code_verifier_encrypted) if consumed.code_verifier_encrypted else None
        )
        flow = (consumed.organization_id, consumed.project_id, consumed.reauth_social_account_id)

    try:
        if params.get("error"):
            error = params["error"].lower()
            raise OAuthFailed(
                error if ERROR_CODE.fullmatch(error) else "oauth_error",
                "The end customer or the platform declined the authorization.",
            )
        code = params.get("code", "")
        if not code or len(code) > 2048:
            raise OAuthFailed("missing_code", "The platform sent no authorization code.")
        identity = await _exchange(platform, http=http, settings=settings, code=code, verifier=verifier)
        if platform == Platform.INSTAGRAM and identity.instagram_account_type not in ("business", "creator"):
            raise OAuthFailed(
                "account_type",
                "Only Instagram business and creator accounts can publish; "
                "switch the account type in the Instagram app and connect again.",
            )
        async with repository.transaction() as session:
            account = await _store(
                session,
                identity=identity,
                platform=platform,
                organization_id=flow[0],
                project_id=flow[1],
                reauth_account_id=flow[2],
            )
            row = await repository.find_state(session, state_hash=state_hash, for_update=True)
            assert row is not None  # found above; a state is purged only a day after it expires
            row.status, row.social_account_id = "completed", account.id
    except OAuthFailed as failure:
        async with repository.transaction() as session:
            row = await repository.find_state(session, state_hash=state_hash, for_update=True)
            assert row is not None  # found above; a state is purged only a day after it expires
            row.status, row.error_code, row.error_message = "failed", failure.code, failure.message
        log.info("oauth.failed", extra={"platform": platform, "projectId": flow[1], "error": failure.code})
        return CallbackAnswer(_with_query(return_url, layers_state=state, layers_oauth_error=failure.code))
    log.info(
        "oauth.connected", extra={"platform": platform, "projectId": flow[1], "socialAccountId": account.id}
    )
    return CallbackAnswer(_with_query(return_url, layers_state=state, status="success"))


async def _exchange(
    platform: str, *, http: httpx.AsyncClient, settings: Settings, code: str, verifier: str | None
) -> ConnectedIdentity:
    redirect_uri = callback_url(settings, platform)
    if platform == Platform.TIKTOK:
        return await tiktok_oauth.exchange(
            http, settings, code=code, redirect_uri=redirect_uri, code_verifier=verifier or ""
        )
    return await instagram_oauth.exchange(http, settings, code=code, redirect_uri=redirect_uri)


async def _store(
    session: AsyncSession,
    *,
    identity: ConnectedIdentity,
    platform: str,
    organization_id: str,
    project_id: str,
    reauth_account_id: str | None,
) -> SocialAccount:
    """Bind the tokens: to the reauth's account, to the same platform account already in the
    project (same `sa_` id), or to a new row."""
    if reauth_account_id is not None:
        account = await repository.find_account(session, account_id=reauth_account_id, for_update=True)
        if account is None:
            raise OAuthFailed("account_removed", "The account being reconnected no longer exists.")
        if account.external_account_id != identity.external_account_id:
            raise OAuthFailed(
                "account_mismatch",
                f"The end customer signed in as @{identity.handle}, "
                f"not as the account being reconnected (@{account.handle}).",
            )
    else:
        await repository.lock_platform_account(
            session,
            project_id=project_id,
            platform=platform,
            external_account_id=identity.external_account_id,
        )
        account = await repository.find_platform_account(
            session,
            project_id=project_id,
            platform=platform,
            external_account_id=identity.external_account_id,
        )
        if account is None:
            account = SocialAccount(
                id=new_id("sa"),
                organization_id=organization_id,
                project_id=project_id,
                platform=platform,
                external_account_id=identity.external_account_id,
            )
            session.add(account)
    account.handle = identity.handle
    account.display_name, account.avatar_url = identity.display_name, identity.avatar_url
    account.access_token_encrypted = crypto.encrypt(identity.access_token)
    if identity.refresh_token or account.refresh_token_encrypted is None:
        account.refresh_token_encrypted = (
            crypto.encrypt(identity.refresh_token) if identity.refresh_token else None
        )
        account.refresh_token_expires_at = identity.refresh_token_expires_at
    account.token_expires_at = identity.token_expires_at
    account.granted_scopes = identity.granted_scopes
    account.instagram_account_type = (
        identity.instagram_account_type if platform == Platform.INSTAGRAM else None
    )
    account.status = "connected"
    account.connected_at = utcnow()
    account.last_refresh_error = None
    await session.flush()
    return account


async def _reauth_target(
    session: AsyncSession, *, principal: Principal, project_id: str, account_id: str
) -> SocialAccount:
    return await owned_or_404(
        lambda: repository.find_account(
            session, account_id=account_id, organization_id=principal.organization_id, project_id=project_id
        ),
        object_id=account_id,
        prefix="sa",
        not_found=NotFound("Social account not found.", details={"socialAccountId": account_id}),
    )


def _ensure_configured(settings: Settings, platform: str) -> None:
    if platform == Platform.TIKTOK:
        configured = settings.tiktok_client_key and settings.tiktok_client_secret.get_secret_value()
    else:
        configured = settings.instagram_app_id and settings.instagram_app_secret.get_secret_value()
    if not configured or not settings.public_url:
        raise PlatformNotConfigured(
            f"Connecting {platform} accounts needs CRIER_PUBLIC_URL and the {platform} app credentials "
            "(see the README's configuration).",
            details={"platform": platform},
        )


def _ensure_return_url_allowed(return_url: str, allowed: list[str]) -> None:
    parts = urlsplit(return_url)
    try:
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        host, port = "", None
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise validation_error(
            "body.returnUrl", "returnUrl must be an absolute http(s) URL without credentials"
        )
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise validation_error("body.returnUrl", "returnUrl must use https (http only for localhost)")
    candidates = {host} | ({f"{host}:{port}"} if port else set())
    # An entry without a port allows every port of that host; "host:port" allows that port only.
    if not any(entry in candidates for entry in allowed):
        raise ReturnUrlNotAllowed(details={"host": host, "allowedReturnHosts": allowed})


def _resolve_scopes(platform: str, scopes: list[str] | None) -> list[str]:
    module = PLATFORM_SCOPES[platform]
    if scopes is None:
        return sorted(module.DEFAULT_SCOPES)
    unknown = sorted(set(scopes) - set(module.KNOWN_SCOPES))
    if unknown:
        raise validation_error(
            "body.scopes", f"unknown {platform} scopes {unknown}; known: {list(module.KNOWN_SCOPES)}"
        )
    # The profile scopes are always asked: without them Crier cannot tell which account consented.
    return sorted(set(scopes) | set(module.REQUIRED_SCOPES))


def _with_query(url: str, **params: str) -> str:
    """`url` with `params` added to its query (existing parameters kept, ours last)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*query, *params.items()])))
