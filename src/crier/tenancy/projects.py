"""Projects as partners address them: every project-scoped route starts with this lookup."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crier.core.errors import NotFound
from crier.models import Project
from crier.tenancy import repository
from crier.tenancy.ownership import OrganizationId, owned_or_404


async def get_project(session: AsyncSession, *, organization_id: OrganizationId, project_id: str) -> Project:
    """The project if it belongs to the organization; 404 otherwise (never a hint it exists)."""
    return await owned_or_404(
        lambda: repository.find_project(session, organization_id=organization_id, project_id=project_id),
        object_id=project_id,
        prefix="prj",
        not_found=NotFound("Project not found.", details={"projectId": project_id}),
    )
