"""Spoken audio made by the tests themselves: piper speaks, silence pads (nothing committed)."""

import functools
import io
import wave

import numpy as np

from mrblue.engine.voice import speech

RATE = 24_000


@functools.cache
def spoken(text: str, voice: str = "marin") -> bytes:
    """`text` spoken by piper, as 24 kHz mono pcm16: the same on every run (piper's random
    variation off), so a test's pauses do not change length from one run to the next."""
    return speech._synthesize(text, voice, 1.0, steady=True)


def silence(seconds: float, rate: int = RATE) -> bytes:
    """Silence as mono pcm16."""
    return bytes(int(rate * seconds) * 2)


def utterance(text: str, before: float = 0.5, after: float = 1.0) -> bytes:
    """A spoken sentence padded with silence, as a microphone would hear it."""
    return silence(before) + spoken(text) + silence(after)


def write_wav(path, pcm: bytes, rate: int = RATE) -> None:
    """Save mono pcm16 as a WAV file (Chromium's fake microphone plays these)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)


def level(pcm: bytes) -> float:
    """Peak level of pcm16 audio in [0, 1]."""
    samples = np.frombuffer(pcm, dtype=np.int16)
    return float(np.abs(samples).max()) / 32768 if len(samples) else 0.0


def read_wav(data: bytes) -> tuple[int, float, float]:
    """(rate, seconds, peak level 0..1) of a mono pcm16 WAV file's bytes; fails on anything
    else."""
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        rate, frames = wav.getframerate(), wav.readframes(wav.getnframes())
    return rate, len(frames) / 2 / rate, level(frames)
