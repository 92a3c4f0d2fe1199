"""No false barge-ins: while Mr. Blue speaks, a cough or an "hmm" does not cut its answer;
talking over it still does (the detector without I/O, then a real connection with Silero)."""

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
)
from tests.engine.test_connection import append_audio, connect
from tests.support import brains
from tests.support.audio_fixtures import silence, spoken

SERVER_VAD = {"type": "server_vad", "silence_duration_ms": 500}
COUGH, BACKCHANNEL, STOP = "Ahem.", "Hmm.", "Stop, please. Make the heading blue."


def scripted(pattern):
    values = iter(pattern)
    return lambda chunk: next(values)


def starts(detector, pattern) -> list:
    events = detector.feed(bytes(CHUNK_BYTES * len(pattern)))
    return [e for e in events if isinstance(e, SpeechStarted)]


def test_while_the_assistant_speaks_a_short_sound_starts_no_turn_and_speech_does():
    burst = [0.0] * 5 + [0.9] * 8 + [0.0] * 30  # 256 ms of speech-like sound, then quiet
    listening = TurnDetector(SERVER_VAD, probability=scripted(burst))
    assert starts(listening, burst) == [SpeechStarted(int(5 * CHUNK_MS))]  # a turn, normally
    speaking = TurnDetector(SERVER_VAD, probability=scripted(burst))
    speaking.barge_in = True
    assert starts(speaking, burst) == []
    # "Stop, please.": two words with a comma's pause between them add up; the turn starts
    # where the speech did.
    words = [0.0] * 5 + [0.9] * 9 + [0.0] * 10 + [0.9] * 13 + [0.0] * 5
    speaking = TurnDetector(SERVER_VAD, probability=scripted(words))
    speaking.barge_in = True
    assert starts(speaking, words) == [SpeechStarted(int(5 * CHUNK_MS))]
    assert MIN_SPEECH_MS < 8 * CHUNK_MS < BARGE_IN_SPEECH_MS <= (9 + 13) * CHUNK_MS


def silero_starts(text: str, barge_in: bool) -> list:
    pcm = Resampler(SPEECH_RATE).pcm(silence(0.5) + spoken(text) + silence(1.0), 24_000)
    detector = TurnDetector(SERVER_VAD, probability=SileroProbability())
    detector.barge_in = barge_in
    return [e for e in detector.feed(pcm) if isinstance(e, SpeechStarted)]


def test_silero_hears_a_cough_and_an_hmm_as_speech_but_not_enough_to_barge_in():
    for sound in (COUGH, BACKCHANNEL):
        assert silero_starts(sound, barge_in=False), sound  # today's turn (and cancel)
        assert not silero_starts(sound, barge_in=True), sound
    assert silero_starts(STOP, barge_in=True)
    assert silero_starts("Wait, stop.", barge_in=True)  # two short words, a comma between


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
