"""The ledger's slot arithmetic on a batch: each request decided in order, as if it held the lock alone."""

from __future__ import annotations

from crier.quota.slots import CallLog, PaceRequest, next_slot_wait, plan_slots

ACCOUNT, CALL = "sa_1", "tiktok.init"


def pace(post_id=None, *, limit=6, window=60.0, may_wait=5.0, take=True, late=1.0) -> PaceRequest:
    return PaceRequest(
        ACCOUNT,
        CALL,
        post_id,
        limit=limit,
        window_seconds=window,
        may_wait_seconds=may_wait,
        take=take,
        late_seconds=late,
    )


def test_one_batch_keeps_every_window_within_the_limit():
    plan = plan_slots([pace(f"sp_{i}", may_wait=0) for i in range(14)], {})

    assert plan.waits[:6] == [0.0] * 6 and plan.waits[6:12] == [60.0] * 6 and plan.waits[12:] == [120.0] * 2
    offsets = sorted(offset for _, _, offset, _ in plan.new_slots)
    assert all(offsets[i] - offsets[i - 6] >= 60.0 for i in range(6, len(offsets)))
    # The ones that must wait are reserved for their posts; the others are plain slots.
    assert [post for *_, post in plan.new_slots[:6]] == [None] * 6
    assert [post for *_, post in plan.new_slots[6:]] == [f"sp_{i}" for i in range(6, 14)]


def test_a_batch_continues_the_log_it_read():
    log = CallLog(offsets={1: -50.0, 2: -40.0, 3: -30.0, 4: -20.0, 5: -10.0, 6: 0.0})

    plan = plan_slots([pace(may_wait=20)], {(ACCOUNT, CALL): log})

    assert plan.waits == [10.0]  # the oldest of the last six leaves the window in 10 s


def test_a_reserved_slot_is_taken_when_its_post_comes_back_in_time():
    log = CallLog(offsets={7: 0.5}, reserved={"sp_late": (7, 0.5)})

    plan = plan_slots([pace("sp_late")], {(ACCOUNT, CALL): log})

    assert plan.waits == [0.5] and plan.consumed == [7] and plan.new_slots == []


def test_a_look_leaves_a_near_slot_untaken_and_reserves_a_far_one():
    full = {i: -float(i) for i in range(6)}  # six calls in the last 6 s
    near = plan_slots([pace("sp_a", take=False, may_wait=60)], {(ACCOUNT, CALL): CallLog(offsets=dict(full))})
    far = plan_slots([pace("sp_b", take=False, may_wait=5)], {(ACCOUNT, CALL): CallLog(offsets=dict(full))})

    assert near.waits == [55.0] and near.new_slots == []
    assert far.waits == [55.0] and far.new_slots == [(ACCOUNT, CALL, 55.0, "sp_b")]


def test_a_reservation_come_back_to_too_late_is_dropped_for_a_fresh_slot():
    log = CallLog(offsets={3: -2.0}, reserved={"sp_late": (3, -2.0)})

    plan = plan_slots([pace("sp_late", late=1.0)], {(ACCOUNT, CALL): log})

    assert plan.dropped == [3] and plan.waits == [0.0] and plan.new_slots == [(ACCOUNT, CALL, 0.0, None)]


def test_a_logged_call_counts_for_the_next_paces():
    plan = plan_slots([PaceRequest(ACCOUNT, CALL, None, log_only=True), pace(limit=1, may_wait=100)], {})

    assert plan.waits == [0.0, 60.0]


def test_next_slot_wait_counts_only_the_window():
    assert next_slot_wait([-70.0, -65.0], limit=2, window_seconds=60) == 0.0
    assert next_slot_wait([-30.0, -10.0], limit=2, window_seconds=60) == 30.0
    assert next_slot_wait([-30.0, 40.0], limit=2, window_seconds=60) == 40.0
