"""`crier admin rotate-keys`: re-encrypt every stored secret with the newest CRIER_ENCRYPTION_KEYS key.

Procedure (README, Operations): put the new key first, restart api and workers, run this, then drop
the old key. Rows are read in id order, a batch per transaction, so a large table never holds locks
for long and an interrupted run resumes by simply running again: what the newest key already
encrypted is skipped, which also makes a second run a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crier.admin import repository
from crier.core import crypto
from crier.core.db import unit_of_work
from crier.models import Layer, SocialAccount, WebhookEndpoint

EncryptedModel = type[SocialAccount] | type[Layer] | type[WebhookEndpoint]

# Every column that holds a secret encrypted with crypto.encrypt().
ENCRYPTED_COLUMNS: dict[EncryptedModel, tuple[str, ...]] = {
    SocialAccount: ("access_token_encrypted", "refresh_token_encrypted"),
    Layer: ("signing_secret_encrypted",),
    WebhookEndpoint: ("secret_encrypted", "previous_secret_encrypted"),
}


@dataclass
class Tally:
    rotated: int = 0
    already_current: int = 0
    undecryptable: list[str] = field(default_factory=list)  # "<row id>.<column>": no configured key opens it

    def add(self, other: Tally) -> None:
        self.rotated += other.rotated
        self.already_current += other.already_current
        self.undecryptable += other.undecryptable

    def as_wire(self) -> dict[str, Any]:
        return {
            "rotated": self.rotated,
            "alreadyCurrent": self.already_current,
            "undecryptable": self.undecryptable,
        }


async def rotate_batch(
    session: AsyncSession, *, model: EncryptedModel, after: str, limit: int
) -> tuple[str | None, Tally]:
    """Rotate the secrets of up to `limit` rows with ids after `after`; the last id seen, or None when done.

    Flushes only: the caller commits, once per batch.
    """
    columns = ENCRYPTED_COLUMNS[model]
    rows = await repository.encrypted_batch(session, model=model, columns=columns, after=after, limit=limit)
    tally = Tally()
    for row in rows:
        for name, ciphertext in zip(columns, row[1:], strict=True):
            if ciphertext is None:
                continue
            if crypto.is_current(ciphertext):
                tally.already_current += 1
                continue
            try:
                rotated = crypto.rotate(ciphertext)
            except RuntimeError:
                tally.undecryptable.append(f"{row.id}.{name}")
                continue
            swapped = await repository.swap_ciphertext(
                session, model=model, row_id=row.id, column=name, old=ciphertext, new=rotated
            )
            if swapped:
                tally.rotated += 1
            else:
                tally.already_current += 1
    return (rows[-1].id if len(rows) == limit else None), tally


async def rotate_all(
    sessionmaker: async_sessionmaker[AsyncSession], *, batch_size: int = 500
) -> dict[str, Tally]:
    """Rotate every encrypted column of every table, one transaction per batch; a tally per table."""
    tallies: dict[str, Tally] = {}
    for model in ENCRYPTED_COLUMNS:
        tally = Tally()
        after: str | None = ""
        while after is not None:
            async with unit_of_work(
                sessionmaker
            ) as session:  # a transaction per batch: short locks, resumable
                after, batch = await rotate_batch(session, model=model, after=after, limit=batch_size)
            tally.add(batch)
        tallies[model.__tablename__] = tally
    return tallies
