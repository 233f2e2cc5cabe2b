"""A `publishing` post's phase is named from its row: claimed, waiting to poll, waiting to retry."""

from __future__ import annotations

from datetime import UTC, datetime

from crier.core.vocabulary import PublishingPhase, publishing_phase
from crier.delivery.repository import ClaimedPost

NOW = datetime(2026, 5, 1, 14, 0, tzinfo=UTC)


def test_a_post_under_lease_is_claimed_whatever_the_platform_said():
    assert publishing_phase(lease_expires_at=NOW, processing_started_at=None) is PublishingPhase.CLAIMED
    assert publishing_phase(lease_expires_at=NOW, processing_started_at=NOW) is PublishingPhase.CLAIMED


def test_a_released_post_the_platform_is_processing_waits_to_poll():
    phase = publishing_phase(lease_expires_at=None, processing_started_at=NOW)

    assert phase is PublishingPhase.WAITING_TO_POLL


def test_a_released_post_the_platform_never_accepted_waits_to_retry():
    phase = publishing_phase(lease_expires_at=None, processing_started_at=None)

    assert phase is PublishingPhase.WAITING_TO_RETRY


def claimed(previous_status: str, previous_lease_expires_at: datetime | None) -> ClaimedPost:
    return ClaimedPost(
        id="sp_1",
        fence=2,
        platform="tiktok",
        mode="publish",
        request_id=None,
        attempted_at=NOW,
        retry_count=0,
        previous_status=previous_status,
        previous_lease_expires_at=previous_lease_expires_at,
        claimed_at=NOW,
    )


def test_a_claim_rescues_only_a_post_another_worker_held():
    assert claimed("publishing", NOW).previous_phase is PublishingPhase.CLAIMED
    assert claimed("publishing", NOW).rescued
    assert claimed("publishing", None).previous_phase is PublishingPhase.WAITING_TO_RETRY
    assert not claimed("publishing", None).rescued
    assert claimed("scheduled", None).previous_phase is None
    assert not claimed("scheduled", None).rescued
