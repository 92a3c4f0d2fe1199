"""A worker's capacity from its own machine's timings: the rules of `calibration.decide`, with
readings as a fast machine of the project gives them and as slower and faster ones would."""

import tempfile
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured

from mrblue.engine.engine_settings import ENGINE_SETTINGS
from mrblue.engine.workers import calibration
from mrblue.engine.workers.calibration import (
    CPU_BUDGET,
    FALLBACK_CAPACITY,
    MOST_CALLS,
    TRIES,
    Readings,
    _one_at_a_time,
    decide,
    fallback,
)


def machine(recognition=57.0, synthesis=60.0, audio=17.0, scale=1.0) -> Readings:
    """Readings of a machine `scale` times slower than the fast one they were measured on
    (each timed three times)."""
    return Readings(
        recognition_ms=(recognition * scale,) * 3,
        synthesis_ms=(synthesis * scale,) * 3 if synthesis else (),
        audio_ms=(audio * scale,) * 3,
    )


def test_the_fast_machine_carries_two_calls_and_says_why_not_three():
    decision = decide(machine())
    assert (decision.capacity, decision.suggested) == (2, 2)
    assert decision.reason.startswith("2 calls: a speaking call takes ~14% of a core here")
    assert "recognition 57 ms, synthesis 60 ms, audio 17 ms a second" in decision.reason
    # Measured there: three calls speaking at once were heard 1.5-1.8x later than one.
    assert "a 3rd would be heard at 1.56x a lone call's time" in decision.reason


def test_a_machine_four_times_slower_carries_one_call_and_says_it_is_too_slow():
    decision = decide(machine(scale=4))
    assert decision.capacity == 1
    assert "even one would need 57% of a core (at most 50%" in decision.reason
    assert "too slow" in decision.reason


def test_a_faster_machine_carries_more():
    assert decide(machine(scale=0.5)).capacity == 4


@pytest.mark.parametrize("slower", [0.1, 0.25, 0.5, 0.8, 1.0, 1.3, 2.0, 4.0, 10.0])
def test_a_slower_machine_never_carries_more(slower):
    assert decide(machine(scale=slower * 1.1)).capacity <= decide(machine(scale=slower)).capacity


def test_audio_that_fills_the_core_stops_admission_before_turns_do():
    decision = decide(machine(recognition=20, synthesis=20, audio=50))
    assert decision.capacity == 1
    assert "a 2nd would need 72% of a core" in decision.reason
    assert 2 * decision.call_share > CPU_BUDGET


def test_slow_turns_stop_admission_before_the_core_is_full():
    # A larger Whisper (small.en) on the fast machine: its turns, not its audio, decide.
    decision = decide(machine(recognition=500))
    assert decision.capacity == 1
    assert decision.call_share < CPU_BUDGET / 2
    assert "a 2nd would be heard at 1.68x a lone call's time" in decision.reason


def test_slow_tries_do_not_move_the_capacity():
    noisy = Readings((57, 300, 900), (400, 60, 90), (17, 40, 17))
    assert decide(noisy).capacity == decide(machine()).capacity


def test_a_pinned_capacity_wins_and_the_calibration_is_still_shown():
    decision = decide(machine(scale=4), pinned=3)
    assert (decision.capacity, decision.suggested) == (3, 1)
    assert decision.reason.startswith(
        "3 calls, as MRBLUE_ENGINE_WORKER_CAPACITY says; calibration: 1 call:"
    )


def test_without_piper_synthesis_is_not_counted_and_the_reason_says_so():
    decision = decide(machine(synthesis=0))
    assert decision.capacity >= decide(machine()).capacity
    assert decision.reason.endswith("(no piper here: synthesis not counted)")


def test_an_unmeasurably_fast_machine_stops_at_the_most_calls_tried():
    decision = decide(machine(scale=0.0001))
    assert decision.capacity == MOST_CALLS
    assert decision.reason.startswith(f"{MOST_CALLS} calls (the most tried)")


def test_a_failed_calibration_falls_back_to_the_default_or_the_pinned_number():
    failed = fallback(RuntimeError("no model"))
    assert failed.capacity == FALLBACK_CAPACITY
    assert (
        failed.reason
        == f"{FALLBACK_CAPACITY} calls, the default: calibration failed (RuntimeError)"
    )
    assert fallback(OSError(), pinned=1).capacity == 1


def test_each_timing_counts_its_fastest_try_and_the_summary_shows_every_try():
    readings = Readings((70, 50, 60), (), (10, 30, 20))
    decision = decide(readings)
    assert "(recognition 50 ms, audio 10 ms a second)" in decision.reason
    assert decision.summary(readings) == {
        "suggested": decision.suggested,
        "call_share": round(decision.call_share, 3),
        "recognition_ms": 50,
        "synthesis_ms": None,
        "audio_ms_per_s": 10,
        "end_of_turn_ms": None,
        "tries_ms": {
            "recognition": [70, 50, 60],
            "synthesis": [],
            "audio": [10, 30, 20],
            "end_of_turn": [],
        },
    }


def test_the_end_of_turn_model_counts_in_a_turns_work():
    without = decide(Readings((50,), (50,), (10,)))
    judged = decide(Readings((50,), (50,), (10,), end_of_turn_ms=(300,)))
    assert judged.call_share > without.call_share
    assert judged.summary(Readings((50,), (50,), (10,), (300,)))["end_of_turn_ms"] == 300


@pytest.mark.parametrize(("raw", "value"), [("auto", "auto"), (" AUTO ", "auto"), ("3", 3)])
def test_the_setting_is_auto_or_a_number(raw, value):
    assert capacity_setting().parse(raw) == value


@pytest.mark.parametrize("raw", ["0", "-1", "many"])
def test_a_capacity_neither_auto_nor_a_number_of_calls_is_refused(raw):
    with pytest.raises(
        ImproperlyConfigured,
        match="MRBLUE_ENGINE_WORKER_CAPACITY is not valid: .* neither `auto` nor a number of calls",
    ):
        capacity_setting().parse(raw)


def test_auto_is_the_default():
    assert capacity_setting().default == "auto"


def capacity_setting():
    (setting,) = (s for s in ENGINE_SETTINGS if s.name == "MRBLUE_ENGINE_WORKER_CAPACITY")
    return setting


def test_the_workers_of_one_machine_calibrate_one_at_a_time(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    order = []

    def second_worker():
        with _one_at_a_time():
            order.append("second")

    with _one_at_a_time():
        second = threading.Thread(target=second_worker)
        second.start()
        second.join(0.5)  # time enough to cut in, were there no lock
        order.append("first done")
    second.join(5)
    assert order == ["first done", "second"]


def test_a_calibration_that_waits_too_long_for_the_lock_times_anyway(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with _one_at_a_time(), _one_at_a_time(wait_s=0.1):
        pass
    assert "another calibration holds" in caplog.text


def test_a_worker_whose_calibration_fails_still_starts_with_a_capacity(monkeypatch, settings):
    def broken(tries=TRIES):
        raise RuntimeError("no model")

    monkeypatch.setattr(calibration, "calibrate", broken)
    settings.MRBLUE_ENGINE_WORKER_CAPACITY = "auto"
    decision, readings = calibration.measure()
    assert (decision.capacity, readings) == (FALLBACK_CAPACITY, None)
    assert decision.reason.endswith("calibration failed (RuntimeError)")
    settings.MRBLUE_ENGINE_WORKER_CAPACITY = 3
    assert calibration.measure()[0].capacity == 3
