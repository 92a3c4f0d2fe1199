"""The page-edit benchmark's requests and how it reads a call's events (no server, no audio)."""

from tests.benchmarks.page_edits import (
    BLOCKS,
    REQUESTS,
    edits_of,
    request_of,
    tables,
    tool_calls_of,
)
from tests.benchmarks.turn_events import COMPLETED


def test_each_request_names_a_block_of_the_page_and_is_recognised_from_its_words():
    blocks = {block["id"] for block in BLOCKS}
    for request in REQUESTS:
        assert request.block in blocks
        assert request_of(request.text.upper()) is request
    assert request_of("Make the heading bloom.") is REQUESTS[0]  # a misheard word
    assert request_of("Thank you.") is None


def turn(item, stop_t, transcript, waited):
    """A spoken turn's events: speech stopped at `stop_t`, its transcript, and an answer
    whose metadata says the turn waited `waited` ms of silence."""
    return [
        {"type": "input_audio_buffer.speech_started", "item_id": item, "_t": stop_t - 1500},
        {"type": "input_audio_buffer.speech_stopped", "item_id": item, "_t": stop_t},
        {"type": COMPLETED, "item_id": item, "transcript": transcript, "_t": stop_t + 300},
        {
            "type": "response.done",
            "response": {"id": f"r-{item}", "metadata": {"mrblue_speech_stopped_ms": str(waited)}},
            "_t": stop_t + 400,
        },
    ]


def test_a_turn_is_timed_from_the_end_of_speech_until_heard_and_until_its_block_changed():
    received = [
        *turn("a", 10_000, "Make the heading blue.", 200),
        *turn("b", 20_000, "Delete the second paragraph.", 300),
        *turn("c", 30_000, "Thank you.", 300),  # no request: left out
        *turn("d", 40_000, "Make the heading blue.", 300),  # said again: counted once
    ]
    changes = [
        {"_t": 10_900, "changed": ["heading"]},
        {"_t": 21_000, "changed": ["intro"]},  # another block: the request was not done
    ]
    probe = {"received": received, "sent": [], "fetches": [], "changes": changes}
    rows = edits_of(probe, heard=[5_000, 10_700, 20_600])
    assert rows == [
        {
            "request": "Make the heading blue.",
            "said": "Make the heading blue.",
            "edited": True,
            "heard_ms": 900,
            "changed_ms": 1100,
        },
        {
            "request": "Delete the second paragraph.",
            "said": "Delete the second paragraph.",
            "edited": False,
            "heard_ms": 900,
        },
    ]
    edited = tables(rows, [], requested=len(REQUESTS))[0]["rows"]
    assert edited[0][:2] == ["Make the heading blue.", "1/1"]
    assert edited[-1][:3] == ["all", "1/4", 900]


def test_a_tool_call_is_timed_in_the_browser_from_its_arguments_to_the_next_response():
    received = [
        {
            "type": "response.function_call_arguments.done",
            "response_id": "r1",
            "call_id": "c1",
            "name": "update_style",
            "_t": 1000.0,
        },
        {"type": "response.done", "response": {"id": "r1"}, "_t": 1008.0},
        {"type": "response.created", "response": {"id": "r2"}, "_t": 1095.0},
    ]
    sent = [
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": "c1", "output": "{}"},
            "_t": 1080.0,
        },
        {"type": "response.create", "_t": 1080.5},
    ]
    fetches = [{"call_id": "c1", "start": 1002.0, "end": 1077.0}]
    resources = [
        {"start": 1002.1, "request": 1004.0, "response": 1074.0, "end": 1076.0},
        {"start": 1400.0, "request": 1401.0, "response": 1410.0, "end": 1411.0},  # another
    ]
    probe = {
        "received": received,
        "sent": sent,
        "fetches": fetches,
        "changes": [],
        "resources": resources,
    }
    calls = tool_calls_of(probe)
    assert calls == [
        {
            "tool": "update_style",
            "response_done": 8.0,
            "http": 75.0,
            "server": 70.0,
            "output_sent": 80.0,
            "create_sent": 80.5,
            "created": 95.0,
        }
    ]
    breakdown = tables([], calls, requested=4, alone={"no call": [20.0, 30.0, 40.0]})[1]["rows"]
    assert breakdown == [
        ["update_style", 1, 80.0, 75.0, 70.0, 8.0, 80.5, 95.0],
        ["update_text, no call", 3, None, 30.0, None, None, None, None],
    ]
