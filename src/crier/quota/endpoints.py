"""`GET /v1/social-accounts/{id}/quota` (a Crier extension; kept apart from accounts/ on purpose)."""

from __future__ import annotations

from fastapi import APIRouter

from crier.api.openapi import error_responses
from crier.core.db import SessionDep
from crier.core.errors import ForbiddenScope, NotFound, Unauthorized
from crier.core.settings import get_settings
from crier.quota import schemas, service
from crier.tenancy.auth import AccountsRead

router = APIRouter(prefix="/v1/social-accounts", tags=["accounts"])


@router.get(
    "/{account_id}/quota",
    response_model=schemas.QuotaOut,
    responses=error_responses(
        Unauthorized,
        ForbiddenScope,
        NotFound,
        examples={"FORBIDDEN_SCOPE": {"requiredScope": "accounts:read"}},
    ),
    summary="The account's platform limits: call rates, learned caps, publishing quota",
)
async def get_account_quota(
    account_id: str, principal: AccountsRead, session: SessionDep
) -> schemas.QuotaOut:
    return await service.account_quota(
        session, organization_id=principal.organization_id, account_id=account_id, settings=get_settings()
    )
