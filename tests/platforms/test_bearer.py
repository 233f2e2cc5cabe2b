"""The plumbing both bearer-token clients share: expiry arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crier.platforms.bearer import time_left


def test_time_left_is_unknown_without_an_expiry():
    assert time_left(None) is None


def test_time_left_reads_a_naive_expiry_as_utc_and_goes_negative_once_expired():
    naive = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None)
    assert timedelta(minutes=59) < time_left(naive) <= timedelta(hours=1)
    assert time_left(datetime.now(UTC) - timedelta(minutes=1)) < timedelta(0)
