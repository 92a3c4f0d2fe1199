"""The noise rows' pure parts: mixing at a signal-to-noise ratio, and counting from events
(no server, no browser, no speech models)."""

import numpy as np
import pytest

from tests.benchmarks.turn_noise import active_rms, barge_ins, detected, mixed, rms, samples
from tests.benchmarks.turn_taking import RATE, Request


def speech_like(seconds: float, amplitude: float, seed: int = 1) -> bytes:
    """Bursts of a tone (words) between silences (pauses): half of it active."""
    t = np.arange(int(RATE * seconds)) / RATE
    on = (t % 1.0) < 0.5
    rng = np.random.default_rng(seed)
    values = amplitude * np.sin(2 * np.pi * 220 * t) * on * rng.uniform(0.8, 1.0, t.size)
    return values.astype(np.int16).tobytes()


def noise(seconds: float, seed: int = 2) -> bytes:
    """White noise, shorter than the speech (it is looped)."""
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 3000, int(RATE * seconds))).astype(np.int16).tobytes()


@pytest.mark.parametrize("snr", [0.0, 10.0, 20.0])
def test_noise_mixed_at_a_ratio_is_that_far_below_the_speech_s_active_level(snr):
    speech = speech_like(6.0, 8000)
    mix = mixed(speech, noise(2.5), snr)
    assert len(mix) == len(speech)
    under = samples(mix) - samples(speech)
    measured = 20 * np.log10(active_rms(speech) / np.sqrt(np.mean(under**2)))
    assert abs(measured - snr) < 0.5
    # the active level leaves out the pauses: half the audio is silent, so 3 dB above RMS
    assert 20 * np.log10(active_rms(speech) / rms(speech)) == pytest.approx(3.0, abs=0.3)


def test_a_mix_that_would_clip_is_turned_down_whole_keeping_its_ratio():
    speech = speech_like(6.0, 31000)
    mix = samples(mixed(speech, noise(2.5), 10.0))
    assert np.abs(mix).max() <= 32000
    clean = samples(speech)
    gain = float(mix @ clean / (clean @ clean))  # how much the whole was turned down
    assert gain < 0.95
    under = mix - gain * clean
    measured = 20 * np.log10(gain * active_rms(speech) / np.sqrt(np.mean(under**2)))
    assert abs(measured - 10.0) < 0.5


def event(type_, t, **fields):
    """A server event as the page records it (with its arrival time)."""
    return {"type": type_, "_t": t, **fields}


def test_false_turns_cut_answers_and_turns_held_open_are_counted_over_mr_blue_s_speaking():
    events = [
        event("output_audio_buffer.started", 1_000, response_id="r1"),
        event("input_audio_buffer.speech_started", 5_000),  # barges in ...
        event("output_audio_buffer.cleared", 5_300, response_id="r1"),  # ... and cuts r1
        event("response.done", 5_310, response={"id": "r1", "status": "cancelled"}),
        event("input_audio_buffer.speech_stopped", 6_000),
        # Mr. Blue silent: not a barge-in; the turn never ends (noise holds it open), so the
        # answers after it play on under it
        event("input_audio_buffer.speech_started", 8_000),
        event("output_audio_buffer.started", 10_000, response_id="r2"),
        event("response.done", 20_000, response={"id": "r2", "status": "completed"}),
        event("output_audio_buffer.stopped", 40_000, response_id="r2"),
        event("output_audio_buffer.started", 50_000, response_id="r3"),
        event("response.done", 50_500, response={"id": "r3", "status": "cancelled"}),
        event("output_audio_buffer.stopped", 51_000, response_id="r3"),
    ]
    assert barge_ins(events) == {
        "speaking_s": 4.3 + 30.0 + 1.0,
        "turns": 2,
        "turns_while_speaking": 1,
        "cut": 2,  # r1 cleared (and cancelled), r3 cancelled
        "speaking_over_a_turn": round((300 + 30_000 + 1_000) / 35_300, 2),
    }


def test_each_request_is_detected_once_in_each_voice_and_every_other_turn_is_counted():
    blue = Request("complete", "piper", ("Make the heading blue.",))
    undo = Request("complete", "piper", ("Undo.",))
    blue_espeak = Request("complete", "espeak-ng", ("Make the heading blue.",))
    sentinel = Request("sentinel", "piper", ("That is all for now.",))
    turns = [
        {"request": None},  # the noise's own turn, or a request misheard
        {"request": blue},
        {"request": blue},  # the same request again, in the other voice
        {"request": blue},  # ... and once too often (split up, or heard twice)
        {"request": sentinel},  # the end of the recording: not counted
    ]
    requests = [blue, undo, blue_espeak, sentinel]
    assert detected(turns, requests) == {"requests": 3, "turns": 4, "detected": 2, "other": 2}
