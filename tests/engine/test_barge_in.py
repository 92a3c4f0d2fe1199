"""No false barge-ins: while Mr. Blue speaks, a cough, an "hmm" or a "yeah" does not cut its
answer; talking over it still does, and so does a lone "Stop." (the detector without I/O, then a
real connection with Silero and Whisper)."""

import json

from mrblue.engine.voice.audio import SPEECH_RATE, Resampler
from mrblue.engine.voice.vad import (
    BARGE_IN_SPEECH_MS,
    CHUNK_BYTES,
    CHUNK_MS,
    MIN_SPEECH_MS,
    SileroProbability,
    SpeechStarted,
    TurnDetector,
    WordsCheck,
)
from tests.engine.test_connection import append_audio, connect
from tests.support import brains
from tests.support.audio_fixtures import silence, spoken

SERVER_VAD = {"type": "server_vad", "silence_duration_ms": 500}
COUGH, BACKCHANNEL, STOP = "Ahem.", "Hmm.", "Stop, please. Make the heading blue."


def scripted(pattern):
    values = iter(pattern)
    return lambda chunk: next(values)


def starts(detector, pattern, words: bool = False) -> list:
    """The turns `pattern` starts, a short sound's words check answered with `words`."""
    events = detector.feed(bytes(CHUNK_BYTES * len(pattern)))
    while detector.asking is not None:
        events += detector.heard(words) + detector.feed(b"")
    return [e for e in events if isinstance(e, SpeechStarted)]


def test_while_the_assistant_speaks_a_short_sound_starts_no_turn_and_speech_does():
    burst = [0.0] * 5 + [0.9] * 8 + [0.0] * 30  # 256 ms of speech-like sound, then quiet
    listening = TurnDetector(SERVER_VAD, probability=scripted(burst))
    assert starts(listening, burst) == [SpeechStarted(int(5 * CHUNK_MS))]  # a turn, normally
    speaking = TurnDetector(SERVER_VAD, probability=scripted(burst))
    speaking.barge_in = True
    assert starts(speaking, burst) == []  # not words ("Ahem.")
    # "Hmm, yeah.": sounds with a pause between them are heard out one by one, never adding up.
    sounds = [0.0] * 5 + [0.9] * 12 + [0.0] * 10 + [0.9] * 12 + [0.0] * 10
    speaking = TurnDetector(SERVER_VAD, probability=scripted(sounds))
    speaking.barge_in = True
    assert starts(speaking, sounds) == []
    # Talking over the answer without a pause starts the turn by its length, where it began.
    talk = [0.0] * 5 + [0.9] * 25 + [0.0] * 5
    speaking = TurnDetector(SERVER_VAD, probability=scripted(talk))
    speaking.barge_in = True
    assert starts(speaking, talk) == [SpeechStarted(int(5 * CHUNK_MS))]
    assert MIN_SPEECH_MS < 12 * CHUNK_MS < BARGE_IN_SPEECH_MS <= 25 * CHUNK_MS


def test_a_short_sound_is_asked_about_once_and_starts_the_turn_if_it_was_words():
    burst = [0.0] * 5 + [0.9] * 8 + [0.0] * 40  # "Stop.": 256 ms, then quiet
    detector = TurnDetector(SERVER_VAD, probability=scripted(burst))
    detector.barge_in = True
    events = detector.feed(bytes(CHUNK_BYTES * len(burst)))
    [check] = events
    assert isinstance(check, WordsCheck) and detector.asking is check
    assert (check.audio_start_ms, check.audio_end_ms) == (int(5 * CHUNK_MS), int(13 * CHUNK_MS))
    assert check.speech_ms == 8 * CHUNK_MS and len(check.pcm16k) >= 8 * CHUNK_BYTES
    assert detector.held_ms >= (8 + 5) * CHUNK_MS  # its audio is kept for the turn
    # Words: the turn starts where the sound did, its silence counted from where it ended.
    assert detector.heard(True) == [SpeechStarted(int(5 * CHUNK_MS))]
    stopped = [e for e in detector.feed(b"") if type(e).__name__ == "SpeechStopped"]
    assert [e.audio_end_ms for e in stopped] == [int(13 * CHUNK_MS)]
    # Clicks are not asked about; a sound is asked about once, however long the quiet after.
    clicks = [0.0] * 5 + [0.9] * 2 + [0.0] * 40 + [0.9] * 8 + [0.0] * 40
    detector = TurnDetector(SERVER_VAD, probability=scripted(clicks))
    detector.barge_in = True
    asked = []
    events = detector.feed(bytes(CHUNK_BYTES * len(clicks)))
    while detector.asking is not None:
        asked.append(detector.asking)
        events += detector.heard(False) + detector.feed(b"")
    assert [c.audio_start_ms for c in asked] == [int(47 * CHUNK_MS)]
    assert not [e for e in events if not isinstance(e, WordsCheck)]


def silero_starts(text: str, barge_in: bool, words: bool = False) -> list:
    """The turns Silero's speech starts, a short sound's words check answered `words`."""
    pcm = Resampler(SPEECH_RATE).pcm(silence(0.5) + spoken(text) + silence(1.0), 24_000)
    detector = TurnDetector(SERVER_VAD, probability=SileroProbability())
    detector.barge_in = barge_in
    events = detector.feed(pcm)
    while detector.asking is not None:
        events += detector.heard(words) + detector.feed(b"")
    return [e for e in events if isinstance(e, SpeechStarted)]


def test_silero_hears_a_cough_and_an_hmm_as_speech_but_not_long_enough_to_barge_in():
    for sound in (COUGH, BACKCHANNEL):
        assert silero_starts(sound, barge_in=False), sound  # today's turn (and cancel)
        assert not silero_starts(sound, barge_in=True), sound
    assert silero_starts(STOP, barge_in=True)  # by its length
    assert not silero_starts("Wait, stop.", barge_in=True)  # two short words ...
    assert silero_starts("Wait, stop.", barge_in=True, words=True)  # ... that are words


async def test_a_cough_during_the_answer_does_not_cut_it_and_speech_does():
    connection, client = await connect(brains.HangingBrain(), max_bytes=1_000_000)
    update = {"type": "session.update", "session": {"type": "realtime"}}
    update["session"]["audio"] = {"input": {"turn_detection": SERVER_VAD}}
    await connection.receive_text(json.dumps(update))
    await connection.receive_text(json.dumps({"type": "response.create"}))
    await client.wait_for("response.output_text.delta")  # Mr. Blue is answering
    await append_audio(connection, silence(0.3) + spoken(COUGH) + silence(1.0))
    await append_audio(connection, spoken(BACKCHANNEL) + silence(1.0))
    assert not client.of("input_audio_buffer.speech_started")
    assert connection.session.active_response_id is not None  # the answer goes on
    await append_audio(connection, spoken(STOP) + silence(1.0))
    done = await client.wait_for("response.done", timeout=10)
    assert done["response"]["status"] == "cancelled"
    assert done["response"]["status_details"]["reason"] == "turn_detected"
    [started] = client.of("input_audio_buffer.speech_started")
    assert started["audio_start_ms"] > 3000  # the words' start, not the cough's (at 300 ms)
    await connection.shutdown()


async def test_a_lone_stop_cuts_the_answer_and_a_backchannel_does_not():
    connection, client = await connect(brains.HangingBrain(), max_bytes=1_000_000)
    update = {"type": "session.update", "session": {"type": "realtime"}}
    listening = {"turn_detection": SERVER_VAD, "transcription": {"model": "whisper-1"}}
    update["session"]["audio"] = {"input": listening}
    await connection.receive_text(json.dumps(update))
    await connection.receive_text(json.dumps({"type": "response.create"}))
    await client.wait_for("response.output_text.delta")  # Mr. Blue is answering
    backchannels = silence(0.3) + spoken("Mhm.") + silence(1.0) + spoken("Yeah.") + silence(1.0)
    await append_audio(connection, backchannels)
    assert not client.of("input_audio_buffer.speech_started")
    assert connection.session.active_response_id is not None  # the answer goes on
    assert silero_starts("Stop.", barge_in=True) == []  # too short to barge in by length ...
    await append_audio(connection, spoken("Stop.") + silence(1.0))
    done = await client.wait_for("response.done", timeout=10)  # ... but it is a word
    assert done["response"]["status"] == "cancelled"
    assert done["response"]["status_details"]["reason"] == "turn_detected"
    [started] = client.of("input_audio_buffer.speech_started")
    assert started["audio_start_ms"] >= len(backchannels) / 48 - 100  # at "Stop.", 24 kHz
    heard = await client.wait_for("conversation.item.input_audio_transcription.completed")
    assert "stop" in heard["transcript"].lower()
    await connection.shutdown()


def test_at_most_one_words_check_a_second_however_many_sounds():
    sound = [0.9] * 5 + [0.0] * 10  # 160 ms of sound, then 320 ms of quiet
    noise = [0.0] * 5 + sound * 8  # eight sounds in under four seconds
    detector = TurnDetector(SERVER_VAD, probability=scripted(noise))
    detector.barge_in = True
    asked = []
    detector.feed(bytes(CHUNK_BYTES * len(noise)))
    while detector.asking is not None:
        asked.append(detector.asking.audio_start_ms)
        detector.heard(False)
        detector.feed(b"")
    gaps = [later - earlier for earlier, later in zip(asked, asked[1:], strict=False)]
    assert len(asked) < 8 and gaps and min(gaps) >= 1000
