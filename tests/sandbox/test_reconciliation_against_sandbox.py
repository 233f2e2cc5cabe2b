"""Lost answers settled end to end against the sandbox's own records: never a duplicate, never lost."""

from __future__ import annotations

import pytest

from crier.platforms.base import OutcomeKind
from crier.platforms.registry import adapter_for
from tests.platforms.support import FakeJournal, drive, job, with_account
from tests.sandbox.test_adapters_against_sandbox import faults, records

pytestmark = pytest.mark.asyncio

PHONE = "+15551234567"


def reconciling(sandbox_settings, **overrides):
    return sandbox_settings.model_copy(update={"reconcile_window_seconds": 0.3, **overrides})


def with_video_list(delivery):
    return with_account(delivery, granted_scopes=["video.publish", "video.upload", "video.list"])


async def test_tiktok_init_applied_but_answer_lost_is_found_in_the_video_list(
    sandbox, http, sandbox_settings
):
    await faults(sandbox, calls=[{"endpoint": "tiktok.video_init", "status": 500, "apply": True}])
    delivery, journal = with_video_list(job()), FakeJournal()
    adapter = adapter_for(delivery, http=http, settings=reconciling(sandbox_settings))

    outcomes = await drive(adapter, delivery, journal)

    state = await records(sandbox)
    [post] = state["tiktok"]["posts"]
    assert outcomes[-1].status == "published" and outcomes[-1].external_id == str(post["post_id"])
    assert state["calls"]["tiktok.video_init"] == 1 and state["duplicates"] == []
    assert journal.handles["reconcile_result"] == "found"


async def test_tiktok_init_that_never_arrived_is_proven_absent_and_posted_once(
    sandbox, http, sandbox_settings
):
    # The answer is lost and TikTok did nothing: exactly what a kill between marker and call leaves.
    await faults(sandbox, calls=[{"endpoint": "tiktok.video_init", "status": 500}])
    delivery, journal = with_video_list(job()), FakeJournal()
    adapter = adapter_for(delivery, http=http, settings=reconciling(sandbox_settings))

    outcomes = await drive(adapter, delivery, journal)

    state = await records(sandbox)
    assert outcomes[-1].status == "published"
    assert len(state["tiktok"]["posts"]) == 1 and state["duplicates"] == []
    assert journal.handles["reconcile_result"] == "absent" and journal.handles["reconcile_recalls"] == 1
    assert any(
        o.kind is OutcomeKind.PROCESSING and o.error and o.error.code == "OUTCOME_UNKNOWN" for o in outcomes
    )


async def test_sms_sent_but_answer_lost_is_found_by_lookup(sandbox, http, sandbox_settings):
    await faults(sandbox, calls=[{"endpoint": "twilio.messages", "status": 500, "apply": True}])
    delivery = job("instagram", "draft", "image", operator_phone=PHONE)
    journal = FakeJournal()
    adapter = adapter_for(delivery, http=http, settings=reconciling(sandbox_settings))

    outcomes = await drive(adapter, delivery, journal)

    state = await records(sandbox)
    [message] = state["twilio"]["messages"]
    assert outcomes[-1].status == "draft" and outcomes[-1].external_id == message["sid"]
    assert state["duplicates"] == []


async def test_sms_never_sent_is_proven_absent_and_sent_once(sandbox, http, sandbox_settings):
    await faults(sandbox, calls=[{"endpoint": "twilio.messages", "status": 500}])
    delivery = job("instagram", "draft", "image", operator_phone=PHONE)
    journal = FakeJournal()
    adapter = adapter_for(delivery, http=http, settings=reconciling(sandbox_settings))

    outcomes = await drive(adapter, delivery, journal)

    state = await records(sandbox)
    assert outcomes[-1].status == "draft" and len(state["twilio"]["messages"]) == 1
    assert journal.handles["reconcile_result"] == "absent"


async def test_instagram_publish_lost_with_unreadable_container_is_found_in_the_media_list(
    sandbox, http, sandbox_settings
):
    await faults(sandbox, calls=[{"endpoint": "instagram.media_publish", "status": 500, "apply": True}])
    delivery, journal = job("instagram", media_type="image"), FakeJournal()
    adapter = adapter_for(delivery, http=http, settings=reconciling(sandbox_settings))
    while not journal.handles.get("ig_publish_sent"):
        await adapter.advance(delivery, journal)
    # From now on the container cannot be read: only the media list can tell.
    await faults(
        sandbox,
        calls=[
            {"endpoint": "instagram.object_read", "status": 400, "error": 100, "subcode": 2207001, "times": 3}
        ],
    )

    outcomes = await drive(adapter, delivery, journal)

    state = await records(sandbox)
    [media] = state["instagram"]["media"]
    assert outcomes[-1].status == "published" and outcomes[-1].external_id == media["id"]
    assert state["duplicates"] == [] and journal.handles["reconcile_result"] == "found"
