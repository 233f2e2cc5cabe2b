"""OAuth connect routes (ACCOUNTS.md): authorize and reauth URLs, the status poll, and the
platforms' callback (no API key: the single-use state is the credential)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crier.accounts import oauth
from crier.accounts.schemas import OAuthStatusOut, OAuthUrlIn, OAuthUrlOut, ReauthUrlIn
from crier.api.openapi import error_responses
from crier.core.db import SessionDep
from crier.core.errors import ForbiddenScope, NotFound, Unauthorized, Validation
from crier.core.schemas import WirePlatform
from crier.core.settings import get_settings
from crier.platforms.http import create_http_client
from crier.tenancy.auth import SocialRead, SocialWrite

router = APIRouter(prefix="/v1", tags=["social accounts"])
callback_router = APIRouter(tags=["social accounts"])

URL_ERRORS = error_responses(
    Unauthorized,
    ForbiddenScope,
    oauth.ReturnUrlNotAllowed,
    NotFound,
    Validation,
    oauth.PlatformNotConfigured,
    examples={
        "FORBIDDEN_SCOPE": {"requiredScope": "social:write"},
        "RETURN_URL_NOT_ALLOWED": {"host": "evil.example", "allowedReturnHosts": ["app.example.com"]},
    },
)
# Never cached or forwarded with a Referer: the callback's URL carries the authorization code.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
# A fixed page: nothing from the request (or the platform) is ever written into it.
UNKNOWN_STATE_PAGE = (
    '<!doctype html><html><head><meta charset="utf-8"><title>Link expired</title></head><body>'
    "<h1>This sign-in link is not valid</h1><p>It may have been used already. Go back to the app "
    "you came from and start connecting your account again.</p></body></html>"
)


@router.post(
    "/projects/{project_id}/social/oauth-url",
    response_model=OAuthUrlOut,
    responses=URL_ERRORS,
    summary="Start connecting a TikTok or Instagram account (authorize URL, 10-minute state)",
)
async def create_oauth_url(
    project_id: str, body: OAuthUrlIn, principal: SocialWrite, session: SessionDep
) -> OAuthUrlOut:
    url = await oauth.create_authorize_url(
        session,
        principal=principal,
        settings=get_settings(),
        project_id=project_id,
        platform=body.platform,
        return_url=body.return_url,
        scopes=body.scopes,
        usage_note=body.usage_note,
    )
    return OAuthUrlOut(authorize_url=url.authorize_url, state=url.state, expires_at=url.expires_at)


@router.post(
    "/projects/{project_id}/social/reauth-url",
    response_model=OAuthUrlOut,
    responses=URL_ERRORS,
    summary="Reconnect an account: the new tokens bind to the same socialAccountId",
)
async def create_reauth_url(
    project_id: str, body: ReauthUrlIn, principal: SocialWrite, session: SessionDep
) -> OAuthUrlOut:
    url = await oauth.create_authorize_url(
        session,
        principal=principal,
        settings=get_settings(),
        project_id=project_id,
        platform=None,
        return_url=body.return_url,
        scopes=body.scopes,
        reauth_account_id=body.social_account_id,
    )
    return OAuthUrlOut(authorize_url=url.authorize_url, state=url.state, expires_at=url.expires_at)


@router.get(
    "/social/oauth-status/{state}",
    response_model=OAuthStatusOut,
    responses=error_responses(Unauthorized, ForbiddenScope, NotFound),
    summary="Where a connect stands: pending, completed (with socialAccountId) or failed",
)
async def get_oauth_status(state: str, principal: SocialRead, session: SessionDep) -> dict[str, Any]:
    return await oauth.get_status(session, organization_id=principal.organization_id, state=state)


# Outside the OpenAPI document: browsers (sent by TikTok and Instagram) call it, never partners, and
# it answers redirects and a plain page rather than JSON (README: Connecting accounts).
@callback_router.get(
    "/oauth/callback/{platform}", status_code=302, response_class=RedirectResponse, include_in_schema=False
)
async def oauth_callback(
    platform: WirePlatform,
    state: Annotated[str | None, Query()] = None,
    code: Annotated[str | None, Query()] = None,
    error: Annotated[str | None, Query(description="The platform's OAuth error (access_denied, ...)")] = None,
) -> Response:
    """Finish the connect, then redirect to the partner's returnUrl (or answer a plain 400 page)."""
    settings = get_settings()
    params = {
        name: value
        for name, value in (("state", state), ("code", code), ("error", error))
        if value is not None
    }
    async with create_http_client(settings) as http:
        answer = await oauth.handle_callback(platform=platform, params=params, http=http, settings=settings)
    if answer.redirect_to is None:
        return HTMLResponse(UNKNOWN_STATE_PAGE, status_code=400, headers=PRIVATE)
    return RedirectResponse(answer.redirect_to, status_code=302, headers=PRIVATE)
