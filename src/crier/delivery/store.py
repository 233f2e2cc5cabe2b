"""The DeliveryStore adapters write through: every call is one statement, committed before it returns."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from crier.accounts.service import mark_reauth_required
from crier.core import crypto
from crier.delivery import repository
from crier.delivery.writes import delivery_writes
from crier.platforms.base import AccountCredentials
from crier.quota.ledger import PostgresLedger

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """This worker's claim on the post ended (another worker took it over): stop, write nothing more.

    Raised from record(), which adapters call with an intent marker right before an irreversible
    call, so a worker that lost its lease never makes that call.
    """


class PostDeliveryStore:
    """One post's delivery store: its journal of handles (fenced by the claim that owns the post), the
    account's rotated tokens and reauth, and the pacing ledger."""

    def __init__(
        self, *, post_id: str, fence: int, handles: dict[str, Any], account: AccountCredentials
    ) -> None:
        self.post_id = post_id
        self.fence = fence
        self.handles: dict[str, Any] = dict(handles)
        self.account = account
        # What this account sent and the limits it knows, shared with every worker through PostgreSQL.
        self.ledger = PostgresLedger(
            account_id=account.social_account_id, post_id=post_id, transaction=repository.transaction
        )

    async def record(self, **handles: Any) -> None:
        """Merge handles into the post's journal and commit before returning."""
        if not handles:
            return
        kept = await delivery_writes().merge_journal(post_id=self.post_id, fence=self.fence, handles=handles)
        if not kept:
            raise LeaseLost(self.post_id)
        self.handles.update(handles)

    async def save_tokens(
        self,
        *,
        access_token: str,
        refresh_token: str | None,
        token_expires_at: datetime | None,
        refresh_token_expires_at: datetime | None = None,
    ) -> None:
        """Persist rotated tokens; an empty refresh token never replaces the stored one."""
        # Not fenced: a platform that rotated the refresh token has already invalidated the old one,
        # so the new one must be kept even if this worker has just lost the post.
        if not access_token:
            log.warning(
                "ignored an empty access token", extra={"socialAccountId": self.account.social_account_id}
            )
            return
        refresh = refresh_token or None
        async with repository.transaction() as session:
            await repository.save_account_tokens(
                session,
                account_id=self.account.social_account_id,
                access_token_encrypted=crypto.encrypt(access_token),
                refresh_token_encrypted=crypto.encrypt(refresh) if refresh else None,
                token_expires_at=token_expires_at,
                refresh_token_expires_at=refresh_token_expires_at,
            )
        self.account.access_token = access_token
        self.account.token_expires_at = token_expires_at
        if refresh:
            self.account.refresh_token = refresh
        log.info(
            "account.tokens_refreshed",
            extra={"socialAccountId": self.account.social_account_id, "postId": self.post_id},
        )

    async def disconnect_account(self, reason: str) -> None:
        """The token died for good: the account needs a reauth, so no other post tries it meanwhile."""
        async with repository.transaction() as session:
            await mark_reauth_required(session, account_id=self.account.social_account_id, reason=reason)
        log.warning(
            "account.disconnected",
            extra={
                "socialAccountId": self.account.social_account_id,
                "postId": self.post_id,
                "reason": reason,
            },
        )
