"""Approval (CONTRACT §5): the project's gate, approve and reject, and the stash's fate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from crier.accounts import repository as accounts_repository
from crier.accounts.readiness import AccountFacts, LayerFacts, is_ready
from crier.approval import repository
from crier.content.service import get_container
from crier.core.clock import utcnow
from crier.core.db import driver_connection
from crier.core.errors import Conflict, ValidationFailed
from crier.models import ContentContainer
from crier.tenancy.ownership import OrganizationId
from crier.webhooks.outbox import record_content_event


class ApprovalPolicy(Protocol):
    """What the gate reads of a project: a Project, or the publish path's container row carrying it."""

    @property
    def requires_approval(self) -> bool: ...
    @property
    def first_n_posts_blocked(self) -> int | None: ...
    @property
    def current_blocked_count(self) -> int: ...


class Approvable(Protocol):
    """What the gate reads of a container: a ContentContainer, or the publish path's row."""

    @property
    def approval_status(self) -> str: ...


def gate_open(project: ApprovalPolicy) -> bool:
    """True when the project needs no (more) approvals: no policy, or first-N already reached."""
    if not project.requires_approval:
        return True
    return (
        project.first_n_posts_blocked is not None
        and project.current_blocked_count >= project.first_n_posts_blocked
    )


def approval_required(project: ApprovalPolicy, container: Approvable) -> bool:
    return not gate_open(project) and container.approval_status != "approved"


@dataclass(frozen=True)
class Promotion:
    """What approval did with the stash: `ok` with the promoted ids, or `failed` with why."""

    status: Literal["ok", "failed"]
    scheduled_post_ids: list[str] = field(default_factory=list)
    details: dict[str, Any] | None = None


def _check_reviewable(container: ContentContainer) -> None:
    if container.status != "completed":
        raise ValidationFailed("The container is not completed yet.", details={"status": container.status})
    if container.approval_status != "pending":
        raise Conflict(
            f"Container is already {container.approval_status}.",
            details={"approvalStatus": container.approval_status},
        )


async def approve(
    session: AsyncSession,
    *,
    organization_id: OrganizationId,
    container_id: str,
    key_id: str,
    note: str | None,
) -> tuple[ContentContainer, Promotion | None]:
    """pending → approved, counted toward first-N, with the stash promoted in the same transaction."""
    # The row lock serializes approve/reject/schedule of one container (publishing takes FOR SHARE).
    container = await get_container(
        session, organization_id=organization_id, container_id=container_id, lock="update"
    )
    _check_reviewable(container)
    await repository.count_approval(session, project_id=container.project_id)
    container.approval_status = "approved"
    container.approved_at = utcnow()
    container.approved_by = key_id
    container.approval_note = note
    promotion = await _promote_stash(session, container)
    await session.flush()
    await record_content_event(session, container_id=container.id, event_type="content.approved")
    return container, promotion


async def reject(
    session: AsyncSession,
    *,
    organization_id: OrganizationId,
    container_id: str,
    key_id: str,
    reason: str | None,
) -> tuple[ContentContainer, list[str]]:
    """pending → rejected; the stash is discarded (its ids read as canceled)."""
    container = await get_container(
        session, organization_id=organization_id, container_id=container_id, lock="update"
    )
    _check_reviewable(container)
    container.approval_status = "rejected"
    container.rejected_at = utcnow()
    container.rejected_by = key_id
    container.rejection_reason = reason
    stash = [row.id for row in await repository.lock_stash(session, container_id=container.id)]
    if stash:
        await repository.cancel(
            session,
            post_ids=stash,
            code="CONTENT_REJECTED",
            message="The container was rejected; its pending schedule was discarded.",
        )
    await session.flush()
    await record_content_event(session, container_id=container.id, event_type="content.rejected")
    return container, stash


async def _promote_stash(session: AsyncSession, container: ContentContainer) -> Promotion | None:
    """All of the stash becomes live, or none of it does (and it is canceled, saying why)."""
    stash = await repository.lock_stash(session, container_id=container.id)
    if not stash:
        return None
    ids = [row.id for row in stash]
    accounts = await accounts_repository.accounts_by_id(
        await driver_connection(session),
        organization_id=container.organization_id,
        account_ids=[row.social_account_id for row in stash],
    )
    for row in stash:
        problem = _promotion_problem(accounts.get(row.social_account_id), row.mode)
        if problem is not None:
            message = (
                f"Approval could not promote the pending schedule: social account {row.social_account_id} "
                f"is {problem.replace('_', ' ')} for mode '{row.mode}'. Re-issue schedule."
            )
            await repository.cancel(
                session, post_ids=ids, code="PENDING_SCHEDULE_NOT_PROMOTED", message=message
            )
            details = {
                "reason": f"social_account_{problem}",
                "socialAccountId": row.social_account_id,
                "mode": row.mode,
                "scheduledPostId": row.id,
                "canceledScheduledPostIds": ids,
            }
            return Promotion("failed", details=details)
    await repository.promote(session, post_ids=ids)
    return Promotion("ok", scheduled_post_ids=ids)


def _promotion_problem(found: tuple[AccountFacts, LayerFacts | None] | None, mode: str) -> str | None:
    if found is None:
        return "removed"
    account, layer = found
    if account.status != "connected":
        return "disconnected"
    return None if is_ready(account, mode, layer) else "not_ready"
