"""Which adapter delivers a job: chosen by platform and mode, nowhere else."""

from __future__ import annotations

import httpx

from crier.core.settings import Settings
from crier.core.vocabulary import Mode, Platform
from crier.platforms.base import DeliveryJob, PlatformAdapter
from crier.platforms.instagram import InstagramAdapter
from crier.platforms.managed import ManagedAdapter
from crier.platforms.sms import SmsDraftAdapter
from crier.platforms.tiktok import TikTokAdapter


def adapter_for(job: DeliveryJob, *, http: httpx.AsyncClient, settings: Settings) -> PlatformAdapter:
    """The adapter for `job`: managed → provider, TikTok → TikTok, Instagram publish → Graph, draft → SMS."""
    if job.mode == Mode.MANAGED:
        return ManagedAdapter(http=http, settings=settings)
    if job.platform == Platform.TIKTOK and job.mode in (Mode.PUBLISH, Mode.DRAFT):
        return TikTokAdapter(http=http, settings=settings)
    if job.platform == Platform.INSTAGRAM and job.mode == Mode.PUBLISH:
        return InstagramAdapter(http=http, settings=settings)
    if job.platform == Platform.INSTAGRAM and job.mode == Mode.DRAFT:
        return SmsDraftAdapter(http=http, settings=settings)
    raise ValueError(f"no adapter for platform={job.platform!r} mode={job.mode!r}")
