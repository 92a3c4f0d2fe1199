"""semantic_vad with a real end-of-turn model (Smart Turn v3.2 from the pipecat-ai package):
its features, its verdicts on real speech, the detector's questions and answers (no I/O),
and a hesitation that does not end a turn on a real connection."""

import numpy as np
import pytest

from mrblue.engine.voice import end_of_turn
from mrblue.engine.voice.audio import SPEECH_RATE, Resampler
from mrblue.engine.voice.vad import (
    CHUNK_BYTES,
    CHUNK_MS,
    EAGERNESS_MAX_WAIT_MS,
    SEMANTIC_ASK_MS,
    SpeechStarted,
    SpeechStopped,
    TurnCheck,
    TurnDetector,
)
from tests.engine.test_connection import append_audio
from tests.engine.test_turn_eagerness import COMPLETED, eager_session, words
from tests.support.audio_fixtures import silence, spoken

pytestmark = pytest.mark.skipif(not end_of_turn.available(), reason="pipecat-ai not installed")
SEMANTIC = {"type": "semantic_vad", "eagerness": "auto"}
# A person who hesitates mid-sentence: the filler and the pause say "not done yet".
HESITANT = ("Delete the, um,", "second paragraph.")


def at_16k(pcm24: bytes) -> bytes:
    return Resampler(SPEECH_RATE).pcm(pcm24, 24_000)


def hesitation(pause_s: float) -> bytes:
    """The hesitant request as a microphone hears it (24 kHz), with a pause of `pause_s`."""
    first, rest = HESITANT
    return silence(0.5) + spoken(first) + silence(pause_s) + spoken(rest) + silence(1.5)


# --- the model ----------------------------------------------------------------------------------


def test_features_are_80_by_800_with_the_speech_at_the_end_of_the_window():
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(SPEECH_RATE) * 0.1).astype(np.float32)  # 1 s of noise
    mel = end_of_turn.features(audio)
    assert mel.shape == (80, 800) and mel.dtype == np.float32
    # Zero-padded at the start: the first 7 s are the floor, the last second is not.
    assert np.ptp(mel[:, :690], axis=1).max() < 1e-6
    assert mel[:, -90:].mean() > mel[:, :690].mean() + 0.5
    # Shorter audio is zero-padded at the start; longer audio is cut to its last 8 s.
    padded = np.concatenate([np.zeros(SPEECH_RATE * 7, np.float32), audio])
    assert np.allclose(mel, end_of_turn.features(padded))
    longer = (rng.standard_normal(SPEECH_RATE * 10) * 0.1).astype(np.float32)
    assert np.allclose(
        end_of_turn.features(longer), end_of_turn.features(longer[-SPEECH_RATE * 8 :])
    )
    assert not np.allclose(end_of_turn.features(longer), end_of_turn.features(longer[:-1600]))


def test_the_model_hears_a_finished_request_as_complete_and_a_hesitation_as_unfinished():
    pause = at_16k(silence(SEMANTIC_ASK_MS[-1] / 1000))
    finished = end_of_turn.completion(at_16k(spoken("Make the heading blue.")) + pause)
    hesitating = end_of_turn.completion(at_16k(spoken(HESITANT[0])) + pause)
    trailing = end_of_turn.completion(at_16k(spoken("I want to add a")) + pause)
    # The model's own decision point is 0.5; its figures differ a little by machine (onnxruntime's
    # kernels follow the CPU: "I want to add a" 0.06 on one, 0.21 on another).
    assert finished > 0.8
    assert hesitating < 0.5 and trailing < 0.5


def test_a_worker_loads_the_model_with_whisper_and_piper():
    from mrblue.engine.voice import speech

    speech.load_models()  # what a worker does before it takes sessions
    assert end_of_turn._session is not None


# --- the detector (no I/O): questions at pauses, answers ------------------------------------------


def scripted(pattern):
    values = iter(pattern)
    return lambda chunk: next(values)


def chunks(n: int) -> bytes:
    return bytes(CHUNK_BYTES * n)


def test_a_pause_asks_the_model_and_waits_for_its_answer_before_hearing_on():
    ask = int(SEMANTIC_ASK_MS[0] / CHUNK_MS)
    pattern = [0.9] * 20 + [0.0] * 40
    detector = TurnDetector(SEMANTIC, probability=scripted(pattern), judging=True)
    events = detector.feed(chunks(60))
    check = events[-1]
    assert isinstance(check, TurnCheck) and detector.asking is check
    assert check.audio_end_ms == int(20 * CHUNK_MS)
    # The turn's audio so far (from its start, the pause's silence last), nothing after.
    assert len(check.pcm16k) == (20 + ask) * CHUNK_BYTES
    assert detector.elapsed_ms == (20 + ask) * CHUNK_MS  # the rest waits for the answer
    assert detector.feed(b"") == []
    assert detector.judged(0.93) == [SpeechStopped(int(20 * CHUNK_MS))]
    assert detector.feed(b"") == [] and not detector.speaking


def answer_all(detector, verdicts) -> list:
    """Feed on, answering the checks with `verdicts` in turn (the last one repeated); the
    events after the checks."""
    verdicts = verdicts if isinstance(verdicts, list) else [verdicts]  # used up as answered
    events = []
    while detector.asking is not None:
        verdict = verdicts.pop(0) if len(verdicts) > 1 else verdicts[0]
        events += detector.judged(verdict) + detector.feed(b"")
    return events


def test_an_unfinished_pause_is_asked_twice_keeps_the_turn_and_a_later_pause_asks_again():
    first_ask, second_ask = (int(ms / CHUNK_MS) for ms in SEMANTIC_ASK_MS)
    pattern = [0.9] * 10 + [0.0] * 25 + [0.9] * 10 + [0.0] * 10
    detector = TurnDetector(SEMANTIC, probability=scripted(pattern), judging=True)
    events = detector.feed(chunks(len(pattern)))
    assert isinstance(events[-1], TurnCheck) and detector.elapsed_ms == (10 + first_ask) * CHUNK_MS
    events += detector.judged(0.3) + detector.feed(b"")
    # Unsure at the first ask: asked again with more silence, same pause.
    assert isinstance(events[-1], TurnCheck) and detector.elapsed_ms == (10 + second_ask) * CHUNK_MS
    assert events[-1].audio_end_ms == int(10 * CHUNK_MS)
    events += detector.judged(0.01) + detector.feed(b"")
    # The 800 ms pause went by (surely unfinished: up to 4 s); speech resumed; a new pause.
    assert isinstance(events[-1], TurnCheck) and events[-1].audio_end_ms == int(45 * CHUNK_MS)
    assert not any(isinstance(e, SpeechStopped) for e in events)
    assert detector.judged(0.97) == [SpeechStopped(int(45 * CHUNK_MS))]


def test_an_unsure_verdict_waits_less_than_a_sure_one_and_the_limit_is_the_eagerness():
    def silence_until_stop(verdicts, eagerness="auto"):
        verdicts = list(verdicts) if isinstance(verdicts, list) else [verdicts]
        pattern = [0.9] * 10 + [0.0] * 400
        detector = TurnDetector(
            {**SEMANTIC, "eagerness": eagerness}, probability=scripted(pattern), judging=True
        )
        for _ in pattern:  # a chunk at a time: the detector's time when the turn ends
            events = detector.feed(chunks(1)) + answer_all(detector, verdicts)
            if any(isinstance(e, SpeechStopped) for e in events):
                assert events[-1] == SpeechStopped(int(10 * CHUNK_MS))
                return detector.elapsed_ms - 10 * CHUNK_MS

    # Unsure, then less unsure with more silence (short of the later ask's stricter bar).
    unsure, sure = silence_until_stop([0.45, 0.7]), silence_until_stop(0.001)
    assert SEMANTIC_ASK_MS[-1] < unsure < 1000 < sure
    assert silence_until_stop([0.3, 0.9]) == SEMANTIC_ASK_MS[-1]  # sure at the later ask
    assert abs(sure - EAGERNESS_MAX_WAIT_MS["auto"]) <= 2 * CHUNK_MS
    assert silence_until_stop(0.001, "high") < sure < silence_until_stop(0.001, "low")
    # The model failed: the fixed window of the eagerness level, as without a model.
    assert silence_until_stop(None) < 1000


def test_words_that_stop_midway_keep_the_turn_whatever_the_model_says():
    pattern = [0.9] * 10 + [0.0] * 200
    detector = TurnDetector(SEMANTIC, probability=scripted(pattern), judging=True)
    for _ in pattern:  # a chunk at a time: the detector's time when the turn ends
        events = detector.feed(chunks(1))
        while detector.asking is not None:  # "Change the title to,": sure, but stops midway
            events += detector.judged(0.96, unfinished=True) + detector.feed(b"")
        if any(isinstance(e, SpeechStopped) for e in events):
            break
    assert events[-1] == SpeechStopped(int(10 * CHUNK_MS))
    waited = detector.elapsed_ms - 10 * CHUNK_MS
    assert abs(waited - EAGERNESS_MAX_WAIT_MS["auto"]) <= CHUNK_MS  # the limit, not 192 ms


def test_without_a_model_semantic_vad_is_a_timer_and_server_vad_never_asks():
    pattern = [0.9] * 10 + [0.0] * 40
    for settings, judging in ((SEMANTIC, False), ({"type": "server_vad"}, True)):
        detector = TurnDetector(settings, probability=scripted(pattern), judging=judging)
        events = [e for e in detector.feed(chunks(50)) if type(e).__name__ != "PauseBegan"]
        assert events == [SpeechStarted(0), SpeechStopped(int(10 * CHUNK_MS))]


# --- a real connection: Silero, the model, Whisper -------------------------------------------


async def test_a_hesitation_does_not_end_a_semantic_vad_turn_but_ends_a_server_vad_one():
    connection, client = await eager_session(SEMANTIC)
    await append_audio(connection, hesitation(0.8))
    heard = await client.wait_for(COMPLETED, timeout=60)
    assert len(client.of("input_audio_buffer.speech_stopped")) == 1
    assert "delete" in words(heard["transcript"])
    assert "second paragraph" in words(heard["transcript"])
    verdicts = [probability for probability, _seconds in connection.voice.judgements]
    assert verdicts[0] < 0.5 and verdicts[-1] >= 0.5  # unfinished at "um", then finished
    await connection.shutdown()

    connection, client = await eager_session(
        {"type": "server_vad", "silence_duration_ms": 500, "create_response": False}
    )
    await append_audio(connection, hesitation(0.8))
    await client.wait_for(COMPLETED, count=2, timeout=60)
    assert len(client.of("input_audio_buffer.speech_stopped")) == 2  # cut off at the pause
    await connection.shutdown()


async def test_a_pause_after_to_does_not_end_the_turn_though_the_model_hears_it_complete():
    connection, client = await eager_session({**SEMANTIC, "create_response": False})
    first = silence(0.5) + spoken("Change the title to,")
    assert end_of_turn.completion(at_16k(first + silence(0.2))) >= 0.5  # the model alone: cut
    await append_audio(connection, first + silence(0.8) + spoken("Welcome home.") + silence(2.5))
    heard = await client.wait_for(COMPLETED, timeout=60)
    assert "title to" in words(heard["transcript"]) and "welcome home" in words(heard["transcript"])
    assert len(client.of("input_audio_buffer.speech_stopped")) == 1
    await connection.shutdown()


async def test_a_finished_request_ends_after_a_short_silence_with_semantic_vad():
    connection, client = await eager_session({**SEMANTIC, "create_response": False})
    # 2 s of silence after it: less than auto's 4 s limit, so only the model can end the turn.
    await append_audio(connection, silence(0.5) + spoken("Make the heading blue.") + silence(2))
    heard = await client.wait_for(COMPLETED, timeout=60)
    assert "heading blue" in words(heard["transcript"])
    assert len(client.of("input_audio_buffer.speech_stopped")) == 1
    verdicts = [probability for probability, _seconds in connection.voice.judgements]
    assert verdicts[-1] >= 0.5 and len(verdicts) <= len(SEMANTIC_ASK_MS)
    await connection.shutdown()
