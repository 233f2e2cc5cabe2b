"""The Idempotency-Key header as a dependency that every POST of /v1 runs its work through (who commits: see Idempotent)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated

import asyncpg
from fastapi import Depends, Header, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from crier.api.errors import envelope
from crier.api.openapi import Responses
from crier.core.db import SessionDep, driver_autocommit, driver_connection, unit_of_work
from crier.core.errors import CrierError
from crier.idempotency import service
from crier.tenancy.auth import Principal

log = logging.getLogger(__name__)

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Same key + same body within 24 hours replays the first answer (`Idempotent-Replayed: true`); "
        "a different body is 422 IDEMPOTENCY_KEY_REUSED; while the first runs, 409 IDEMPOTENCY_IN_FLIGHT.",
    ),
]


def _render(model: BaseModel, status_code: int) -> Response:
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


class Idempotent:
    """Runs a POST's work at most once per (organization, method, path, key) (CONTRACT §3).

    Who commits: the claim and its release are short units of work of their own (a claim must be
    visible to concurrent requests at once); the work and its recorded answer are written in the
    request's session, which the request's unit of work commits once (core.db). Should that commit
    fail, the claim is left to run out like a crashed request's (service.claim takes it over).
    """

    def __init__(self, request: Request, session: AsyncSession, key: str | None) -> None:
        self.request = request
        self.session = session
        self.key = key or None

    async def run(
        self, principal: Principal, work: Callable[[], Awaitable[BaseModel]], *, status_code: int = 200
    ) -> Response:
        """The answer of `work`, or the stored answer when this key already has one."""
        if self.key is None:
            return _render(await work(), status_code)
        scope = service.Scope(principal.organization_id, self.request.method, self.request.url.path, self.key)
        body_hash = service.request_hash(await self.request.body())
        async with unit_of_work() as claiming:
            outcome = await service.claim(claiming, scope=scope, body_hash=body_hash)
        if isinstance(outcome, service.StoredResponse):
            headers = {**outcome.headers, "Idempotent-Replayed": "true"}
            return Response(outcome.body, status_code=outcome.status, headers=headers)
        try:
            response = _render(await work(), status_code)
        except CrierError as error:
            if error.status >= 500:
                await self._release(outcome)
                raise
            # A refusal writes nothing: drop the work's transaction and keep the refusal as the answer.
            await self.session.rollback()
            response = envelope(error.status, error.code, error.message, error.details, error.headers)
        except BaseException:
            await self._release(outcome)
            raise
        await self._record(outcome, response)
        return response

    async def _record(self, claim: service.Claim, response: Response) -> None:
        # Stored in the work's own transaction: the answer becomes visible exactly when its writes
        # do, and a failed commit leaves neither.
        headers = {"content-type": response.headers["content-type"]}
        if "retry-after" in response.headers:
            headers["retry-after"] = response.headers["retry-after"]
        try:
            stored = await service.record(
                self.session,
                claim=claim,
                status=response.status_code,
                headers=headers,
                body=bytes(response.body),
            )
        except BaseException:
            await self._release(claim)
            raise
        if not stored:  # our claim expired and another request took it over: it owns the key now
            await self.session.rollback()
            raise service.in_flight()

    async def _release(self, claim: service.Claim) -> None:
        try:
            await self.session.rollback()
            async with unit_of_work() as releasing:
                await service.release(releasing, claim=claim)
        except Exception:  # the database is gone too: the claim's lock runs out on its own
            log.warning("could not release an idempotency claim", exc_info=True)


async def run_once(
    request: Request,
    principal: Principal,
    key: str | None,
    work: Callable[[asyncpg.Connection], Awaitable[BaseModel]],
    *,
    status_code: int = 200,
) -> Response:
    """The answer of `work`, at most once per Idempotency-Key; `work` must write with one statement.

    `work` gets an asyncpg connection. Without a key there is no answer to record, so it runs on a
    pooled connection in autocommit (core.db.driver_autocommit: no Session, no BEGIN and COMMIT),
    where its one writing statement is its own transaction; with a key, in a unit of work through
    `Idempotent`, which stores the answer in the same transaction.
    """
    if not key:
        async with driver_autocommit() as connection:
            return _render(await work(connection), status_code)
    async with unit_of_work() as session:

        async def keyed() -> BaseModel:
            return await work(await driver_connection(session))

        return await Idempotent(request, session, key).run(principal, keyed, status_code=status_code)


async def idempotent(request: Request, session: SessionDep, key: IdempotencyKeyHeader = None) -> Idempotent:
    # An async function, not the class itself: FastAPI runs a sync dependency (a class's __init__)
    # in its thread pool, a thread hop on every POST.
    return Idempotent(request, session, key)


IdempotentDep = Annotated[Idempotent, Depends(idempotent)]


def replayable(status: int = 200) -> Responses:
    """`responses=` entry documenting that a success may be a replay."""
    header = {
        "description": "`true` when this is the stored answer of an earlier request with the same key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
    return {
        status: {
            "description": "Success (or its byte-identical replay)",
            "headers": {"Idempotent-Replayed": header},
        }
    }
