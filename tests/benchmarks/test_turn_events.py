"""How every voice row reads a call's events into turns (no server, no audio)."""

from tests.benchmarks.turn_events import COMPLETED, after_speech_ms, answer_of, turn_span
from tests.benchmarks.turn_taking import Request, turns_of


def spoken_turn(item, stop_t, transcript, waited, answered_after=300):
    """A turn's events: its speech, its transcript, and an answer created `answered_after`
    ms after the speech stopped, whose metadata says the turn waited `waited` ms."""
    created_t = stop_t + answered_after
    return [
        {"type": "input_audio_buffer.speech_started", "item_id": item, "_t": stop_t - 1500},
        {"type": "input_audio_buffer.speech_stopped", "item_id": item, "_t": stop_t},
        {"type": COMPLETED, "item_id": item, "transcript": transcript, "_t": created_t - 10},
        {"type": "response.created", "response": {"id": f"r-{item}"}, "_t": created_t},
        {
            "type": "response.done",
            "response": {"id": f"r-{item}", "metadata": {"mrblue_speech_stopped_ms": waited}},
            "_t": created_t + 500,
        },
    ]


def test_a_turn_runs_to_the_next_speech_and_its_answer_must_start_within_it():
    events = [
        *spoken_turn("a", 10_000, "Make the heading blue.", 300),
        *spoken_turn("b", 12_000, "Undo.", 500, answered_after=2000),  # after "c" began
        *spoken_turn("c", 13_800, "Redo.", 500),
    ]
    stops = [e for e in events if e["type"] == "input_audio_buffer.speech_stopped"]
    assert turn_span(events, stops[0]) == (10_000, 10_500)
    assert turn_span(events, stops[2]) == (13_800, float("inf"))
    assert answer_of(events, stops[0])["response"]["id"] == "r-a"
    assert answer_of(events, stops[1]) is None  # answered too late to be timed
    # Heard 450 ms after the speech_stopped arrived, and the turn had waited 300 ms.
    assert after_speech_ms([9_000, 10_450, 10_480], turn_span(events, stops[0]), 300) == 750
    assert after_speech_ms([10_600], turn_span(events, stops[0]), 300) is None


def test_the_turn_taking_rows_take_the_request_its_wait_and_when_it_was_heard():
    request = Request("complete", "piper", ("Make the heading blue.",))
    events = spoken_turn("a", 10_000, "Make the heading blue.", 280)
    [turn] = turns_of(events, heard=[10_400], requests=[request])
    assert turn["request"] is request and turn["turn_end"] == 280 and turn["heard"] == 680
