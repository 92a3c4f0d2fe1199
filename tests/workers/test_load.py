"""A worker's load and admission, without processes: capacity, promised places, the CPU share,
the threshold and draining (`mrblue.engine.load`), and the gateway's own placements."""

from dataclasses import replace

import pytest

from mrblue.engine.directory import WorkerRecord
from mrblue.engine.gateway import Placements
from mrblue.engine.load import Capacity, CpuMeter, EngineBusy


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
