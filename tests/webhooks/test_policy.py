"""WEBHOOKS.md §4: the retry ladder, Retry-After, and which answers end a delivery at once."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from crier.webhooks.policy import LADDER_SECONDS, MAX_ATTEMPTS, judge, parse_retry_after, should_auto_pause

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_the_ladder_is_0s_30s_1m_5m_15m_1h_6h_24h():
    assert LADDER_SECONDS == (0, 30, 60, 300, 900, 3600, 21_600, 86_400) and MAX_ATTEMPTS == 8


@pytest.mark.parametrize("attempts_made", range(1, MAX_ATTEMPTS))
def test_a_5xx_retries_at_the_next_rung_with_jitter(attempts_made):
    delays = [
        judge(attempts_made=attempts_made, status=503, now=NOW, rng=random.Random(seed)).delay
        for seed in range(20)
    ]
    base = LADDER_SECONDS[attempts_made]
    assert all(0.9 * base <= delay <= 1.1 * base for delay in delays)
    assert len(set(delays)) > 1  # jittered


@pytest.mark.parametrize("status", [None, 500, 502, 503, 408, 429])
def test_timeouts_network_errors_5xx_408_429_retry(status):
    assert judge(attempts_made=1, status=status, now=NOW).status == "retry"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422, 301, 302])
def test_other_4xx_and_redirects_fail_at_once(status):
    assert judge(attempts_made=1, status=status, now=NOW).status == "failed"


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_2xx_is_delivered(status):
    assert judge(attempts_made=1, status=status, now=NOW).status == "delivered"


def test_after_the_eighth_attempt_the_delivery_fails():
    assert judge(attempts_made=7, status=500, now=NOW).status == "retry"
    assert judge(attempts_made=8, status=500, now=NOW).status == "failed"
    assert judge(attempts_made=8, status=429, retry_after="1", now=NOW).status == "failed"


def test_retry_after_seconds_replaces_the_next_delay_shorter_or_longer():
    assert judge(attempts_made=1, status=429, retry_after="5", now=NOW).delay == 5
    assert judge(attempts_made=1, status=503, retry_after="7200", now=NOW).delay == 7200


def test_retry_after_http_date_and_cap():
    later = format_datetime(NOW + timedelta(minutes=2), usegmt=True)
    assert judge(attempts_made=1, status=503, retry_after=later, now=NOW).delay == 120
    assert parse_retry_after("999999", now=NOW) == 86_400
    far = format_datetime(NOW + timedelta(days=3), usegmt=True)
    assert parse_retry_after(far, now=NOW) == 86_400
    assert parse_retry_after(format_datetime(NOW - timedelta(minutes=1), usegmt=True), now=NOW) == 0


def test_an_unreadable_retry_after_keeps_the_ladder():
    delay = judge(attempts_made=2, status=503, retry_after="soon", now=NOW, rng=random.Random(1)).delay
    assert 0.9 * 60 <= delay <= 1.1 * 60
    assert parse_retry_after("", now=NOW) is None and parse_retry_after(None, now=NOW) is None


def test_auto_pause_after_20_consecutive_failures():
    assert not should_auto_pause(19) and should_auto_pause(20)
