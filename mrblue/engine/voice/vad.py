"""Turn detection: when the person starts and stops speaking, from 16 kHz audio.

`TurnDetector` is a state machine with no I/O: feed it audio, get `SpeechStarted`,
`PauseBegan` and `SpeechStopped` back, with times in milliseconds of session audio (the
protocol's `audio_start_ms` / `audio_end_ms`). The speech probability comes from a callable,
Silero by default, so tests can drive it with a scripted one.
"""

import functools
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mrblue.engine.voice.audio import SPEECH_RATE

CHUNK_SAMPLES = 512  # what Silero takes at 16 kHz: 32 ms
CHUNK_BYTES = CHUNK_SAMPLES * 2
CHUNK_MS = CHUNK_SAMPLES * 1000 / SPEECH_RATE
# semantic_vad has no model here: eagerness maps to how long a pause ends a turn.
# "high" still waits out a spoken comma (piper's pause there, and people's), so a sentence
# is not cut at its first clause.
EAGERNESS_SILENCE_MS = {"low": 1200, "medium": 800, "auto": 600, "high": 450}
MIN_SPEECH_MS = 96  # ignore clicks shorter than three chunks
# A pause this long (at most half the turn-ending silence) may be the end of the turn: recognition
# starts then, so the transcript is nearly ready when the silence confirms it. Two chunks: at
# once, but not on one quiet chunk inside a word.
EARLY_PAUSE_MS = 64


@dataclass
class SpeechStarted:
    """Speech began at `audio_start_ms` (of session audio)."""

    audio_start_ms: int


@dataclass
class PauseBegan:
    """The person paused at `audio_end_ms`; if the silence lasts, the turn ends there."""

    audio_end_ms: int


@dataclass
class SpeechStopped:
    """Speech ended at `audio_end_ms`, after the configured silence."""

    audio_end_ms: int


CONTEXT_SAMPLES = 64  # Silero v6 sees the end of the previous chunk before each chunk
# Below this peak (-60 dBFS) a chunk is silence: the model is not run on it. Every call spends
# most of its time there (the person listens or thinks), and a muted or noise-suppressed
# microphone sends such chunks.
SILENT_PEAK = 32


@functools.cache
def _silero_session():
    # One model per process, shared by every call (onnxruntime's run() is thread-safe); one
    # thread each: a chunk is too small a job to split, and more threads only spin.
    import onnxruntime
    from faster_whisper.vad import get_assets_path

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(
        str(Path(get_assets_path()) / "silero_vad_v6.onnx"),
        sess_options=options,
        providers=["CPUExecutionProvider"],
    )


class SileroProbability:
    """Speech probability of 32 ms chunks of 16 kHz pcm16 from Silero VAD v6 (the ONNX model
    faster-whisper ships), keeping one stream's model state between chunks."""

    def __init__(self):
        self._session = _silero_session()
        self._lock = threading.Lock()  # one chunk at a time: the state is this stream's
        self.reset()

    def reset(self) -> None:
        """Forget the stream so far (the model starts afresh, as after silence)."""
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._fresh = True

    def __call__(self, chunk: bytes) -> float:
        samples = np.frombuffer(chunk, dtype=np.int16)
        if samples.size != CHUNK_SAMPLES:
            raise ValueError(f"Silero takes {CHUNK_SAMPLES} samples, not {samples.size}")
        with self._lock:
            if int(np.abs(samples.astype(np.int32)).max()) < SILENT_PEAK:
                if not self._fresh:
                    self.reset()  # what follows silence starts a new stretch of sound
                return 0.0
            self._fresh = False
            audio = samples.astype(np.float32) / 32768.0
            window = np.concatenate([self._context, audio])[np.newaxis]
            probability, self._h, self._c = self._session.run(
                None, {"input": window, "h": self._h, "c": self._c}
            )
            self._context = audio[-CONTEXT_SAMPLES:]
            return float(probability[0])


def silero_probability():
    """A speech-probability function backed by Silero VAD (one model state per call)."""
    return SileroProbability()


class TurnDetector:
    """Detect turns from speech probability, with OpenAI's server_vad parameters."""

    def __init__(self, turn_detection: dict, probability=None):
        self.probability = probability or silero_probability()
        self.configure(turn_detection)
        self._pending = bytearray()
        self.elapsed_ms = 0.0  # session audio seen so far
        self.speaking = False
        self._speech_ms = 0.0
        self._silence_ms = 0.0
        self._start_ms = 0.0
        self._pause_told = False

    def configure(self, turn_detection: dict) -> None:
        """Apply (new) turn-detection settings, e.g. after `session.update`."""
        self.threshold = turn_detection.get("threshold", 0.5)
        if turn_detection["type"] == "semantic_vad":
            self.threshold = 0.5
            self.silence_ms = EAGERNESS_SILENCE_MS[turn_detection.get("eagerness", "auto")]
        else:
            self.silence_ms = turn_detection.get("silence_duration_ms", 500)
        self.pause_ms = max(CHUNK_MS, min(self.silence_ms / 2, EARLY_PAUSE_MS))

    def feed(self, pcm16k: bytes) -> list:
        """Feed 16 kHz mono pcm16; return the turn events it completes."""
        self._pending.extend(pcm16k)
        events = []
        while len(self._pending) >= CHUNK_BYTES:
            chunk = bytes(self._pending[:CHUNK_BYTES])
            del self._pending[:CHUNK_BYTES]
            event = self._step(self.probability(chunk) >= self.threshold)
            if event is not None:
                events.append(event)
        return events

    def _step(self, voiced: bool):
        self.elapsed_ms += CHUNK_MS
        if not self.speaking:
            if voiced:
                if self._speech_ms == 0:
                    self._start_ms = self.elapsed_ms - CHUNK_MS
                self._speech_ms += CHUNK_MS
                if self._speech_ms >= MIN_SPEECH_MS:
                    self.speaking, self._silence_ms = True, 0.0
                    return SpeechStarted(int(self._start_ms))
            else:
                self._speech_ms = 0.0
            return None
        if voiced:
            self._silence_ms, self._pause_told = 0.0, False
            return None
        self._silence_ms += CHUNK_MS
        end_ms = int(self.elapsed_ms - self._silence_ms)
        if self._silence_ms >= self.silence_ms:
            self.speaking, self._speech_ms, self._pause_told = False, 0.0, False
            return SpeechStopped(end_ms)
        if self._silence_ms >= self.pause_ms and not self._pause_told:
            self._pause_told = True
            return PauseBegan(end_ms)
        return None
