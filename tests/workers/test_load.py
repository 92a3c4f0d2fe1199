"""A worker's load and admission, without processes: capacity, promised places (one unused
place per owner, counted against their session limit), the CPU share, the threshold and
draining (`mrblue.engine.workers.load`), and the gateway's own placements."""

from dataclasses import replace

import pytest

from mrblue.engine.transports.gateway import Placements
from mrblue.engine.workers.directory import WorkerRecord
from mrblue.engine.workers.live_sessions import SessionRefused, SessionRegistry
from mrblue.engine.workers.load import Capacity, CpuMeter, EngineBusy, OwnerAtLimit


def test_load_is_the_larger_of_sessions_over_capacity_and_cpu():
    capacity = Capacity(capacity=4, threshold=0.75)
    assert capacity.load(live_sessions=1, now=0) == 0.25
    capacity.cpu_share = 0.6
    assert capacity.load(live_sessions=1, now=0) == 0.6
    assert capacity.load(live_sessions=9, now=0) == 1.0  # never above 1


def test_a_promised_place_counts_until_claimed_or_expired():
    capacity = Capacity(capacity=2, threshold=1.0, promise_seconds=30)
    capacity.promise("a", live_sessions=0, now=0)
    capacity.promise("b", live_sessions=0, now=0)
    with pytest.raises(EngineBusy) as full:
        capacity.promise("c", live_sessions=0, now=1)
    assert full.value.reason == "full"
    assert capacity.load(0, now=1) == 1.0
    assert capacity.load(0, now=31) == 0.0  # both promises lapsed unused
    capacity.promise("c", live_sessions=0, now=31)
    capacity.claim("c")  # its session opened: now a live session, no longer a promise
    assert capacity.load(1, now=31) == 0.5


def test_a_worker_at_its_threshold_takes_no_more_even_with_room():
    capacity = Capacity(capacity=4, threshold=0.75)
    capacity.cpu_share = 0.8  # busy with what it has
    with pytest.raises(EngineBusy) as loaded:
        capacity.promise("a", live_sessions=1, now=0)
    assert loaded.value.reason == "loaded"


def test_admission_of_a_session_keeps_the_promise_and_refuses_strangers_when_full():
    capacity = Capacity(capacity=1, threshold=1.0)
    capacity.promise("mine", live_sessions=0)
    assert not capacity.admits("stranger", live_sessions=0)  # the one place is promised
    assert capacity.admits("mine", live_sessions=0)
    capacity.claim("mine")
    assert not capacity.admits(None, live_sessions=1)


def test_a_draining_worker_admits_and_promises_nothing():
    capacity = Capacity(capacity=4, threshold=1.0)
    capacity.promise("early", live_sessions=0)
    capacity.draining = True
    assert not capacity.admits("early", live_sessions=0)
    with pytest.raises(EngineBusy) as draining:
        capacity.promise("late", live_sessions=0)
    assert draining.value.reason == "draining"


def test_the_cpu_meter_smooths_the_share_of_a_core():
    meter = CpuMeter(smoothing=0.5)
    assert meter.read(wall=0, cpu=0) == 0.0
    assert meter.read(wall=1, cpu=1) == 0.5  # a full core for a second, half-weighted
    assert meter.read(wall=2, cpu=2) == 0.75
    assert meter.read(wall=3, cpu=4) == 0.875  # two threads on two cores count as one core


def test_an_owners_new_mint_replaces_their_unused_place():
    capacity = Capacity(capacity=2, threshold=1.0)
    for n in range(10):
        capacity.promise(f"a{n}", live_sessions=0, now=n, owner="user:a")
    assert capacity.promised(now=10) == 1 and capacity.reserved("user:a", now=10) == 1
    assert capacity.admits("a9", live_sessions=1, now=10)  # the newest secret holds the place
    assert not capacity.admits("a0", live_sessions=1, now=10)  # an older one holds none


def test_one_owner_cannot_hold_every_place_another_user_still_gets_one():
    capacity = Capacity(capacity=2, threshold=0.75)
    for n in range(10):
        capacity.promise(f"a{n}", live_sessions=0, now=0, owner="user:a")
    capacity.promise("b", live_sessions=0, now=0, owner="user:b")
    with pytest.raises(EngineBusy):  # both places held, one each: a third user waits
        capacity.promise("c", live_sessions=0, now=0, owner="user:c")
    capacity.promise("a10", live_sessions=0, now=0, owner="user:a")  # a replaces their own
    assert capacity.load(0, now=0) == 1.0 and capacity.reserved("user:a", now=0) == 1


def test_secrets_with_no_owner_each_hold_a_place():
    capacity = Capacity(capacity=2, threshold=1.0)
    capacity.promise("x", live_sessions=0, now=0)
    capacity.promise("y", live_sessions=0, now=0)
    with pytest.raises(EngineBusy):
        capacity.promise("z", live_sessions=0, now=0)
    assert capacity.reserved(None, now=0) == 0


def test_an_unused_place_counts_against_its_owners_session_limit():
    capacity = Capacity(capacity=8, threshold=1.0)
    capacity.promise("a1", live_sessions=1, now=0, owner="user:a", owner_sessions=1, per_owner=2)
    with pytest.raises(OwnerAtLimit) as at_limit:  # two live sessions and one more place
        capacity.promise(
            "a2", live_sessions=2, now=0, owner="user:a", owner_sessions=2, per_owner=2
        )
    assert at_limit.value.limit == 2
    assert capacity.admits("a1", live_sessions=8, now=0)  # the refusal kept the older place
    capacity.promise("b", live_sessions=2, now=0, owner="user:b", owner_sessions=0, per_owner=2)


def test_a_session_opened_beside_an_unused_place_counts_it(settings):
    settings.MRBLUE_ENGINE_SESSIONS_PER_OWNER = 2
    registry = SessionRegistry()
    registry.admit("s1", "user:a", reserved=1)
    with pytest.raises(SessionRefused) as refused:  # one live, one held unused: the limit
        registry.admit("s2", "user:a", reserved=1)
    assert refused.value.code == "user_session_limit"
    registry.admit("s2", "user:a", reserved=0)  # the unused place became this session


def test_a_placement_counts_until_the_worker_has_published_two_more_beats():
    placements = Placements()
    placed_on = WorkerRecord("w1", "http://w1", load=0.0, sessions=0, capacity=4, beat=7)
    placements.add(placed_on)
    placements.add(placed_on)
    assert placements.adjusted(placed_on).load == 0.5
    # The next beat may have been taken before the secrets were minted: still counted.
    next_beat = replace(placed_on, load=0.5, beat=8)
    assert placements.adjusted(next_beat).load == 1.0
    two_later = replace(placed_on, load=0.5, beat=9)  # surely includes them
    assert placements.adjusted(two_later).load == 0.5
    assert placements.adjusted(placed_on).load == 0.0  # forgotten for good


def test_placements_of_a_worker_that_is_gone_are_forgotten():
    placements = Placements()
    record = WorkerRecord("w1", "http://w1", load=0.0, sessions=0, capacity=2, beat=1)
    placements.add(record)
    placements.forget_all_but({"w2"})
    assert placements.adjusted(record).load == 0.0
