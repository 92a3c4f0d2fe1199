"""Synthetic speakers in a small noisy room: the test corpus's sentences as a microphone hears them.

A speaker is piper (the engine's own voice) at some pace, or an espeak-ng voice. What it says
goes through sox (a little reverb, resampled to 16 kHz) and gets light pink-ish noise at a fixed
signal-to-noise ratio; a noisy speaker (`snr_db` set) gets sox's pink noise at that ratio
instead (a busy room: 10 dB). Clips are made when first asked for and cached by hash in a
temp dir, so nothing is committed and a second run renders nothing.
"""

import hashlib
import os
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16_000
ROOM_VERSION = "room-1"  # change when the room changes, so cached clips are made again
SNR_DB = 28.0
REVERB = ("reverb", "15", "50", "30")  # reverberance %, HF damping %, room scale %


@dataclass(frozen=True)
class Speaker:
    """A voice: `engine` is piper or espeak-ng; `voice` and `pace` say how it speaks."""

    name: str
    engine: str
    voice: str = ""
    pace: float = 1.0
    snr_db: float | None = None  # sox pink noise at this ratio (None: the light room noise)


SPEAKERS = (
    Speaker("piper", "piper", pace=1.0),
    Speaker("piper-slow", "piper", pace=0.8),
    Speaker("piper-fast", "piper", pace=1.3),
    Speaker("espeak-us", "espeak-ng", "en-us", 1.0),
    Speaker("espeak-gb-f", "espeak-ng", "en-gb+f3", 0.95),
    # Issue 26's voices unlike the first five: a Scottish espeak-ng voice, faster; piper at
    # another length scale; and two of them in a noisy room (10 dB SNR).
    Speaker("espeak-scot-fast", "espeak-ng", "en-gb-scotland+m3", 1.2),
    Speaker("piper-0.9", "piper", pace=0.9),
    Speaker("piper-noisy", "piper", pace=1.0, snr_db=10.0),
    Speaker("espeak-gb-f-noisy", "espeak-ng", "en-gb+f3", 0.95, snr_db=10.0),
)


def cache_dir() -> Path:
    """Where rendered clips live (`MRBLUE_AUDIO_CACHE`, else the system temp dir)."""
    path = Path(os.environ.get("MRBLUE_AUDIO_CACHE") or tempfile.gettempdir()) / "mrblue-speakers"
    path.mkdir(parents=True, exist_ok=True)
    return path


def clip(speaker: Speaker, text: str) -> bytes:
    """`text` said by `speaker` in the room, as 16 kHz mono pcm16 (cached)."""
    key = hashlib.sha256(repr((ROOM_VERSION, speaker, text)).encode()).hexdigest()[:24]
    path = cache_dir() / f"{key}.pcm"
    if path.exists():
        return path.read_bytes()
    dry = _speak(speaker, text)
    pcm = _room(dry, seed=int(key[:8], 16), snr_db=speaker.snr_db)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(pcm)
    temporary.replace(path)
    return pcm


def _speak(speaker: Speaker, text: str) -> bytes:
    """A WAV file's bytes of the dry voice."""
    if speaker.engine == "piper":
        from mrblue.engine.voice import speech

        return _wav(speech._synthesize(text, "marin", speaker.pace), 24_000)
    words_per_minute = str(round(165 * speaker.pace))
    return subprocess.run(
        ["espeak-ng", "-v", speaker.voice, "-s", words_per_minute, "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout


def _room(wav: bytes, seed: int, snr_db: float | None = None) -> bytes:
    """Reverb and a 16 kHz resample (sox), silence either side, then light noise (or sox's
    pink noise at `snr_db`)."""
    wet = subprocess.run(
        [
            "sox",
            "-t",
            "wav",
            "-",
            "-t",
            "raw",
            "-e",
            "signed",
            "-b",
            "16",
            "-c",
            "1",
            "-r",
            str(RATE),
            "-",
            "gain",
            "-3",
            *REVERB,
            "pad",
            "0.3",
            "0.5",
        ],
        input=wav,
        check=True,
        capture_output=True,
    ).stdout
    signal = np.frombuffer(wet, dtype=np.int16).astype(np.float32)
    if snr_db is None:
        rng = np.random.default_rng(seed)
        noise = np.cumsum(rng.standard_normal(len(signal)).astype(np.float32))  # brown-ish
        noise -= np.convolve(noise, np.ones(64) / 64, mode="same")  # audible, not a rumble
    else:
        noise = _pink_noise(len(signal))
    power = float(np.mean(signal**2)) or 1.0
    ratio = SNR_DB if snr_db is None else snr_db
    noise *= np.sqrt(power / (10 ** (ratio / 10)) / (float(np.mean(noise**2)) or 1.0))
    return np.clip(signal + noise, -32768, 32767).astype(np.int16).tobytes()


def _pink_noise(samples: int) -> np.ndarray:
    """`samples` of sox's pink noise at 16 kHz (`-R`: the same noise every run)."""
    raw = subprocess.run(
        ["sox", "-R", "-n", "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-r", str(RATE)]
        + ["-", "synth", f"{samples / RATE:.4f}", "pinknoise"],
        check=True,
        capture_output=True,
    ).stdout
    noise = np.frombuffer(raw, dtype=np.int16).astype(np.float32)
    return np.resize(noise, samples)


def _wav(pcm: bytes, rate: int) -> bytes:
    path = Path(tempfile.mkstemp(suffix=".wav")[1])
    try:
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(pcm)
        return path.read_bytes()
    finally:
        path.unlink()
