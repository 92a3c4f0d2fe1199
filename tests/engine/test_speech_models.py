"""The speech models as the engine runs them: Whisper's encoder sized to the speech, and
synthesized answers that start with their first sound."""

import numpy as np
import pytest
from django.test import override_settings

from mrblue.engine.protocol.spec import PROTOCOL_RATE
from mrblue.engine.voice import speech
from mrblue.engine.voice.audio import SPEECH_RATE, Resampler, from_first_sound
from mrblue.engine.voice.short_window import (
    WHOLE_WINDOW,
    encoder_frames,
    most_tokens,
    repeats_itself,
    trusted,
)
from tests.support.audio_fixtures import utterance


def padded(spoken_frames: int) -> np.ndarray:
    """Log-mel features as faster-whisper hands them to the encoder: the speech, then zeros
    up to the 30 s window."""
    features = np.zeros((1, 80, WHOLE_WINDOW), np.float32)
    features[..., :spoken_frames] = -0.5
    return features


@pytest.mark.parametrize(
    ("spoken", "after_s", "frames"),
    [
        (230, 1.0, 400),  # 2.3 s of speech and 1 s after it, in whole seconds
        (300, 1.0, 400),
        (230, 0.5, 300),
        (2950, 1.0, WHOLE_WINDOW),  # never past the window
        (0, 1.0, 100),
        (230, 0.0, WHOLE_WINDOW),  # 0: the whole window, as Whisper was trained
    ],
)
def test_the_encoder_sees_the_speech_and_a_little_silence(spoken, after_s, frames):
    assert encoder_frames(padded(spoken), after_s).shape[-1] == frames


def test_silence_inside_the_speech_is_kept():
    features = padded(500)
    features[..., 100:300] = 0.0  # a pause (exact zeros, like the padding)
    assert encoder_frames(features, 1.0).shape[-1] == 600


@pytest.mark.parametrize(
    ("text", "repeated"),
    [
        ("Delete the paragraph. Delete the paragraph.", True),
        ("redo. redo. Redo", True),
        ("Make the heading blue, make the heading blue,", True),
        ("Make the heading blue.", False),
        ("Make it very, very big.", False),  # one word twice is how people talk
        ("Make the heading blue and the button blue.", False),
        ("", False),
    ],
)
def test_a_short_window_failure_is_told_by_its_repetition(text, repeated):
    assert repeats_itself(text) is repeated


def test_a_transcript_longer_than_its_audio_could_hold_is_not_trusted():
    assert trusted("Make the heading blue.", 6, seconds=2.0)
    assert not trusted("Make the heading blue.", most_tokens(2.0), seconds=2.0)
    assert not trusted("Undo. Undo. Undo.", 6, seconds=2.0)


@pytest.mark.parametrize(
    "sentence",
    ["Make the heading blue.", "Change the second paragraph to say we are open on Sundays."],
)
def test_the_short_window_hears_what_the_whole_window_hears(sentence, encoded):
    pcm16k = Resampler(SPEECH_RATE).pcm(utterance(sentence, 0.2, 0.3), PROTOCOL_RATE)
    with override_settings(MRBLUE_STT_SILENCE_AFTER_S=0):
        whole = speech._transcribe(pcm16k, "en")
    assert encoded == [WHOLE_WINDOW]
    assert speech._transcribe(pcm16k, "en") == whole
    speech_frames = len(pcm16k) // 2 // 160  # one per 10 ms
    (short,) = encoded[1:]  # heard once: trusted
    assert speech_frames + 500 <= short < speech_frames + 600  # the speech and 5 s after it
    assert whole.rstrip(".").lower() == sentence.rstrip(".").lower()


def test_a_transcript_not_trusted_is_heard_again_on_the_whole_window(monkeypatch, encoded):
    pcm16k = Resampler(SPEECH_RATE).pcm(utterance("Undo.", 0.2, 0.3), PROTOCOL_RATE)
    monkeypatch.setattr(speech, "trusted", lambda text, tokens, seconds: False)
    speech._transcribe(pcm16k, "en")
    assert encoded[0] < WHOLE_WINDOW and encoded[1:] == [WHOLE_WINDOW]


@pytest.fixture
def encoded(monkeypatch):
    """The frames each encoder run of this test saw."""
    frames, real = [], speech.encoder_frames

    def recorded(features, after_s):
        cut = real(features, after_s)
        frames.append(cut.shape[-1])
        return cut

    monkeypatch.setattr(speech, "encoder_frames", recorded)
    return frames


def test_audio_starts_just_before_its_first_sound():
    rate = 24_000
    tone = (np.cos(np.arange(rate // 10) * 0.2) * 16000).astype(np.int16)
    pcm = np.concatenate([np.zeros(rate // 20, np.int16), tone]).tobytes()  # 50 ms of silence
    trimmed = from_first_sound(pcm, rate)
    assert (len(pcm) - len(trimmed)) // 2 == rate // 20 - rate // 100  # 10 ms of it kept
    assert from_first_sound(bytes(960), rate) == bytes(960)  # all silence: kept


async def test_a_spoken_answer_starts_with_its_first_word():
    if not speech.tts_available():
        pytest.skip("piper is not installed")
    silent_ms = [first_sound_ms(speech._synthesize("Done.", "marin", 1.0))]
    silent_ms.append(first_sound_ms(await speech.synthesize("Done.", "marin")))
    pieces = [pcm async for pcm in speech.synthesize_stream("Done. Next.", "marin")]
    silent_ms.append(first_sound_ms(pieces[0]))
    # piper leads "Done." with 35-85 ms of silence, by machine (onnxruntime's
    # kernels differ with the CPU); the trimmed answers start within 15 ms.
    assert silent_ms[0] > 30
    assert silent_ms[1] <= 15 and silent_ms[2] <= 15


def first_sound_ms(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, np.int16)
    return np.flatnonzero(np.abs(samples) > 0.01 * 32768)[0] / PROTOCOL_RATE * 1000
