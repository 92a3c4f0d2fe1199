"""A turn's timings: marked once per stage, reported in ms after the end of speech."""

import logging

import pytest

from mrblue.engine.voice.turn_timer import TurnTimer


class Clock:
    """A clock the test moves."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_stages_are_reported_after_the_end_of_speech_the_first_mark_counting():
    clock = Clock()
    timer = TurnTimer(clock)
    assert timer.metadata() == {}  # no speech stopped yet: a typed request has no timings
    timer.start(heard_since_s=0.5)  # the detector heard 500 ms of silence after the speech
    clock.now += 0.2
    timer.mark("transcript")
    clock.now += 0.1
    timer.mark("first_output")
    timer.mark("first_output")  # a later output does not move the first one
    timer.mark("recognition_start", at=100.05)
    assert timer.metadata() == {
        "mrblue_speech_stopped_ms": "500",
        "mrblue_transcript_ms": "700",
        "mrblue_first_output_ms": "800",
        "mrblue_recognition_start_ms": "550",
    }


def test_a_transcript_made_again_counts_when_it_is_ready_and_a_new_turn_starts_afresh():
    clock = Clock()
    timer = TurnTimer(clock)
    timer.start(0.0)
    timer.mark("transcript")
    clock.now += 0.3
    timer.mark("transcript", again=True)
    assert timer.metadata()["mrblue_transcript_ms"] == "300"
    timer.start(0.0)
    assert timer.metadata() == {"mrblue_speech_stopped_ms": "0"}


def test_an_unknown_stage_is_a_mistake_and_the_log_line_names_every_stage(caplog):
    timer = TurnTimer(Clock())
    with pytest.raises(ValueError, match="first_sound"):
        timer.mark("first_sound")
    timer.start(0.25)
    with caplog.at_level(logging.INFO, logger="mrblue.engine"):
        timer.log("call-1")
    assert "call-1 turn timings: mrblue_speech_stopped_ms=250" in caplog.text


def test_what_detection_took_after_the_audio_arrived_counts_in_speech_stopped():
    clock = Clock()
    timer = TurnTimer(clock)
    # The audio up to 300 ms after the speech had arrived at 100.0; the end-of-turn model
    # then took 150 ms to say the turn was over.
    clock.now = 100.15
    timer.start(heard_since_s=0.3, heard_at=100.0)
    assert timer.metadata() == {"mrblue_speech_stopped_ms": "450"}
