"""Audio plumbing: stateful resampling between the rates each stage needs.

Rates: WebRTC (Opus) decodes to 48 kHz stereo; the protocol's pcm16 is 24 kHz mono
(`vocabulary.PROTOCOL_RATE`); voice detection and recognition want 16 kHz mono. One `Resampler`
per direction and stream, never one per frame: a resampler keeps filter state between frames,
and a fresh one per frame clicks.
"""

import io
import wave

import av
import numpy as np

SPEECH_RATE = 16_000


class Resampler:
    """Converts s16 audio of one stream to mono s16 at `rate`, keeping state across calls."""

    def __init__(self, rate: int):
        self.rate = rate
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)

    def frame(self, frame: av.AudioFrame) -> bytes:
        """Resample one decoded frame (any rate, layout) to mono pcm16 bytes."""
        return b"".join(packed_bytes(out) for out in self._resampler.resample(frame))

    def pcm(self, data: bytes, rate: int) -> bytes:
        """Resample mono pcm16 bytes at `rate` (a trailing half sample is left out)."""
        samples = _samples(data)
        if not samples.size:
            return b""
        samples = samples.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = rate
        return self.frame(frame)

    def float32(self, audio: np.ndarray, rate: int) -> bytes:
        """Resample float audio in [-1, 1] (as synthesizers make it) to pcm16."""
        clipped = np.clip(audio, -1.0, 1.0)
        return self.pcm((clipped * 32767).astype(np.int16).tobytes(), rate)


def packed_bytes(frame: av.AudioFrame) -> bytes:
    """The samples of a packed (interleaved) frame, without numpy or the plane's padding."""
    return bytes(frame.planes[0])[: frame.samples * frame.layout.nb_channels * 2]


def join_frames(frames: list[av.AudioFrame]) -> list[av.AudioFrame]:
    """Consecutive frames of one stream as one frame, to be resampled and voice-detected at
    once (the per-frame cost is Python's, not the samples'); unchanged unless they are all
    packed s16 of one layout and rate."""
    first = frames[0]
    shape = (first.format.name, first.layout.name, first.sample_rate)
    if (
        len(frames) == 1
        or shape[0] != "s16"
        or any((f.format.name, f.layout.name, f.sample_rate) != shape for f in frames)
    ):
        return frames
    pcm = b"".join(packed_bytes(frame) for frame in frames)
    samples = np.frombuffer(pcm, dtype=np.int16).reshape(1, -1)
    joined = av.AudioFrame.from_ndarray(samples, format="s16", layout=first.layout.name)
    joined.sample_rate = first.sample_rate
    if first.time_base is not None:
        joined.pts, joined.time_base = first.pts, first.time_base
    return [joined]


def from_first_sound(pcm: bytes, rate: int, level: float = 0.01, lead_ms: int = 10) -> bytes:
    """Mono pcm16 from `lead_ms` before its first sample above `level` (about -40 dBFS):
    synthesized speech starts with silence (piper leads every clause with some) that a
    listener would only wait through. All of it when nothing is that loud."""
    loud = np.flatnonzero(np.abs(_samples(pcm)) > level * 32768)
    if not loud.size:
        return pcm
    return pcm[max(0, int(loud[0]) - rate * lead_ms // 1000) * 2 :]


def ms_of(pcm: bytes, rate: int) -> float:
    """Duration of mono pcm16 audio in milliseconds."""
    return len(pcm) / 2 / rate * 1000


def wav_bytes(pcm: bytes, rate: int) -> bytes:
    """Mono pcm16 audio as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm[: len(pcm) // 2 * 2])
    return out.getvalue()


def pcm_to_float(pcm: bytes) -> np.ndarray:
    """Mono pcm16 bytes as float32 samples in [-1, 1] (what speech recognizers take)."""
    return _samples(pcm).astype(np.float32) / 32768.0


def _samples(pcm: bytes) -> np.ndarray:
    # Whole samples only: a buffer filled in another format (one byte a sample) can end
    # on half of one, and numpy refuses a buffer that is not whole samples.
    return np.frombuffer(pcm, dtype=np.int16, count=len(pcm) // 2)
