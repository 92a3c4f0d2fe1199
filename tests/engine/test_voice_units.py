"""Pieces of the voice path without I/O: turn detection, playout, sentence splitting."""

from mrblue.engine.transports.speaker import split_sentences
from mrblue.engine.voice.playout import FRAME_BYTES, PlayoutQueue
from mrblue.engine.voice.vad import (
    CHUNK_BYTES,
    CHUNK_MS,
    PauseBegan,
    SpeechStarted,
    SpeechStopped,
    TurnDetector,
)

SERVER_VAD = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
}


def scripted(pattern):
    """A probability function that plays back `pattern` (one value per 32 ms chunk)."""
    values = iter(pattern)
    return lambda chunk: next(values)


def feed(detector, chunks):
    return detector.feed(bytes(CHUNK_BYTES * chunks))


def turns(events):
    """Only the starts and stops (pauses are checked on their own)."""
    return [e for e in events if not isinstance(e, PauseBegan)]


def test_speech_start_and_stop_times():
    pattern = [0.0] * 10 + [0.9] * 20 + [0.1] * 20
    detector = TurnDetector(SERVER_VAD, probability=scripted(pattern))
    events = feed(detector, 50)
    assert turns(events) == [SpeechStarted(int(10 * CHUNK_MS)), SpeechStopped(int(30 * CHUNK_MS))]


def test_a_pause_is_told_early_once_with_the_time_the_turn_would_end():
    # 500 ms of silence end a turn; recognition starts after 64 ms of it (2 chunks).
    pattern = [0.9] * 10 + [0.0] * 9 + [0.9] * 5 + [0.0] * 20
    detector = TurnDetector(SERVER_VAD, probability=scripted(pattern))
    events = feed(detector, len(pattern))
    first_pause, resumed_until = int(10 * CHUNK_MS), int(24 * CHUNK_MS)
    assert events == [
        SpeechStarted(0),
        PauseBegan(first_pause),  # the person went on: this pause ended nothing
        PauseBegan(resumed_until),
        SpeechStopped(resumed_until),
    ]
    short = [0.9] * 10 + [0.0] * 1 + [0.9] * 3  # one quiet chunk inside a word is no pause
    assert feed(TurnDetector(SERVER_VAD, probability=scripted(short)), 14) == [SpeechStarted(0)]


def test_the_early_pause_is_at_once_but_at_most_half_the_turn_ending_silence():
    quick = TurnDetector({**SERVER_VAD, "silence_duration_ms": 100}, scripted([]))
    slow = TurnDetector({**SERVER_VAD, "silence_duration_ms": 2000}, scripted([]))
    assert quick.pause_ms == 50 and slow.pause_ms == 64


def test_threshold_and_short_clicks():
    quiet = TurnDetector({**SERVER_VAD, "threshold": 0.95}, probability=scripted([0.9] * 20))
    assert feed(quiet, 20) == []
    clicks = TurnDetector(SERVER_VAD, probability=scripted([0.9, 0.0] * 10))
    assert feed(clicks, 20) == []


def test_silence_duration_decides_the_end_of_a_turn():
    pause = [0.9] * 10 + [0.0] * 10 + [0.9] * 10 + [0.0] * 20  # a 320 ms pause inside
    patient = TurnDetector(SERVER_VAD, probability=scripted(pause))
    assert [type(e) for e in turns(feed(patient, 50))] == [SpeechStarted, SpeechStopped]
    eager = TurnDetector({**SERVER_VAD, "silence_duration_ms": 200}, probability=scripted(pause))
    assert [type(e) for e in turns(feed(eager, 50))] == [
        SpeechStarted,
        SpeechStopped,
        SpeechStarted,
        SpeechStopped,
    ]


def test_semantic_vad_eagerness_maps_to_silence():
    high = TurnDetector({"type": "semantic_vad", "eagerness": "high"}, probability=scripted([]))
    low = TurnDetector({"type": "semantic_vad", "eagerness": "low"}, probability=scripted([]))
    assert high.silence_ms < low.silence_ms


def test_audio_is_chunked_whatever_the_feed_size():
    detector = TurnDetector(SERVER_VAD, probability=scripted([0.9] * 10))
    events = detector.feed(bytes(CHUNK_BYTES * 3 + 100)) + detector.feed(bytes(CHUNK_BYTES))
    assert events == [SpeechStarted(0)]
    assert detector.elapsed_ms == 4 * CHUNK_MS


def test_playout_notes_played_time_and_clear():
    queue = PlayoutQueue()
    queue.push("resp_1", "item_1", b"\x01\x00" * 4800)  # 200 ms
    pcm, notes = queue.pull()
    assert notes == [("started", "resp_1")] and len(pcm) == FRAME_BYTES
    queue.pull()
    assert round(queue.played_ms["item_1"]) == 40
    assert queue.clear() == ("resp_1", "item_1", 40.0)
    pcm, notes = queue.pull()
    assert pcm == bytes(FRAME_BYTES) and notes == [] and not queue.busy


def test_playout_stops_when_a_finished_response_drains():
    queue = PlayoutQueue()
    queue.push("resp_1", "item_1", b"\x01\x00" * 480)  # one frame
    queue.pull()
    assert queue.busy  # the response may still say more
    queue.finish("resp_1")
    assert queue.pull()[1] == [("stopped", "resp_1")]
    assert not queue.busy


def test_split_sentences():
    assert split_sentences("Done. The heading is blue now. And") == (
        ["Done.", "The heading is blue now."],
        "And",
    )
    assert split_sentences("No end yet") == ([], "No end yet")
