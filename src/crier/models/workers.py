"""Worker liveness, kept where the truth is: each running `crier worker` upserts its row from its sweep."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from crier.models.base import Base


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(Text, primary_key=True)  # <hostname>:<pid>:<random>
    hostname: Mapped[str] = mapped_column(Text, index=True)
    pid: Mapped[int]
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]  # the last successful sweep (PostgreSQL's clock)
