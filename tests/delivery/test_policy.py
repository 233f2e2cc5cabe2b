"""Backoff numbers: polls double from 0.5 s to 15 s; retries use full jitter, base 1 s, cap 60 s."""

from __future__ import annotations

from crier.delivery.policy import next_transition, poll_delay, retry_delay
from crier.platforms.base import Outcome, PlatformError
from tests.delivery.conftest import tuned


def test_polls_wait_as_long_as_the_post_has_been_processing_within_bounds():
    assert poll_delay(elapsed_seconds=0) == 0.5
    assert poll_delay(elapsed_seconds=3) == 3
    assert poll_delay(elapsed_seconds=500) == 15


def test_retry_backoff_is_full_jitter_capped_at_60_seconds():
    assert retry_delay(retries_so_far=0, rand=lambda: 0.999) < 1
    assert 3.9 < retry_delay(retries_so_far=2, rand=lambda: 0.999) < 4
    assert retry_delay(retries_so_far=40, rand=lambda: 1.0) == 60
    assert retry_delay(retries_so_far=3, rand=lambda: 0.0) == 0


def test_retry_after_is_honoured_but_bounded():
    assert retry_delay(retries_so_far=0, retry_after=30, rand=lambda: 0.5) == 30
    assert retry_delay(retries_so_far=0, retry_after=10**6, rand=lambda: 0.5) == 900


def test_the_last_allowed_failure_ends_the_post():
    error = PlatformError("SERVER_ERROR", "boom", "tiktok")
    settings = tuned(max_attempts=3)
    kept = next_transition(
        outcome=Outcome.retryable(error),
        platform="tiktok",
        retries_so_far=1,
        elapsed_seconds=5,
        settings=settings,
    )
    ended = next_transition(
        outcome=Outcome.retryable(error),
        platform="tiktok",
        retries_so_far=2,
        elapsed_seconds=5,
        settings=settings,
    )
    assert (kept.status, kept.event, kept.add_retries) == ("publishing", "post.retrying", 1)
    assert (ended.status, ended.error.code, ended.add_retries) == ("failed", "SERVER_ERROR", 1)


def test_reconciling_stays_publishing_with_outcome_unknown_as_last_error():
    error = PlatformError("OUTCOME_UNKNOWN", "asking tiktok", "tiktok")
    step = next_transition(
        outcome=Outcome.processing(error),
        platform="tiktok",
        retries_so_far=0,
        elapsed_seconds=4,
        settings=tuned(),
    )
    assert (step.status, step.event, step.error, step.add_retries) == (
        "publishing",
        "post.reconciling",
        error,
        0,
    )


def test_reconciling_past_the_processing_bound_fails_with_outcome_unknown_not_a_timeout():
    error = PlatformError("OUTCOME_UNKNOWN", "asking tiktok", "tiktok")
    settings = tuned(max_processing_seconds=60)
    step = next_transition(
        outcome=Outcome.processing(error),
        platform="tiktok",
        retries_so_far=0,
        elapsed_seconds=61,
        settings=settings,
    )
    assert (step.status, step.error.code) == ("failed", "OUTCOME_UNKNOWN")
    assert "could not tell within 60 seconds" in step.error.message


def test_a_paced_poll_waits_at_least_its_retry_after():
    step = next_transition(
        outcome=Outcome.processing(retry_after=9),
        platform="tiktok",
        retries_so_far=0,
        elapsed_seconds=1,
        settings=tuned(),
    )
    assert (step.status, step.delay, step.error) == ("publishing", 9, None)


def test_deferral_goes_back_to_scheduled_without_spending_retries():
    error = PlatformError("QUOTA_DEFERRED", "held back", "tiktok")
    step = next_transition(
        outcome=Outcome.deferred(error, 42.0),
        platform="tiktok",
        retries_so_far=4,
        elapsed_seconds=10_000,
        settings=tuned(max_attempts=5, max_processing_seconds=60),
    )
    assert (step.status, step.event, step.delay, step.error, step.add_retries) == (
        "scheduled",
        "post.deferred",
        42.0,
        error,
        0,
    )
