"""End of turn from the sound of speech: Pipecat's Smart Turn v3.2 model, run offline.

`semantic_vad` asks this model, at each pause, whether the person has finished their turn: it
hears the words and the intonation of up to the last 8 s, so "Change the button text to ..."
is heard as unfinished where a fixed silence would cut it, and "Make the heading blue." as
finished after a short silence.

The model file ships in the `pipecat-ai` wheel (BSD-2-Clause). Only the file is used: it is
found through the package's installed file list, never imported (Pipecat's own code would pull
its whole framework in). The features are our own: Whisper-style log-mel, computed here with
numpy to the model's input contract (16 kHz, the last 8 s zero-padded at the start, the
waveform normalized, an 80 x 800 log-mel spectrogram).

The model is loaded once per process (a worker loads it before it takes sessions) and runs on
its own `FairWorker` thread: sessions are served round-robin, and a verdict never waits
behind a transcript (both are on a turn's critical path).
"""

import functools
import logging
import threading
import time
from collections.abc import Hashable
from importlib import metadata
from pathlib import Path

import numpy as np

from mrblue.engine.voice.audio import SPEECH_RATE
from mrblue.engine.voice.scheduler import URGENT, FairWorker

logger = logging.getLogger("mrblue.engine.voice.speech")
PACKAGE = "pipecat-ai"
MODEL_FILE = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
WINDOW_S = 8  # the model hears at most the last 8 s
WINDOW_SAMPLES = WINDOW_S * SPEECH_RATE
N_FFT = 400  # 25 ms windows ...
HOP = 160  # ... every 10 ms: 800 frames in 8 s
N_MELS = 80
COMPLETE = 0.5  # the model's own decision point: a probability above it is "complete"

judging = FairWorker("turn", lambda: 4)
_lock = threading.Lock()
_session = None


@functools.cache
def model_path() -> Path | None:
    """The Smart Turn model file of the installed `pipecat-ai` package, or None without it
    (looked up once: the package's file list is read from disk)."""
    try:
        files = metadata.files(PACKAGE) or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if str(file) == MODEL_FILE:
            path = Path(file.locate())
            return path if path.is_file() else None
    return None


def available() -> bool:
    """Whether the end-of-turn model is installed (else semantic_vad falls back to timers)."""
    return model_path() is not None


# --- features ---------------------------------------------------------------------------------


def _slaney_mel(hz: np.ndarray | float) -> np.ndarray:
    # Slaney's mel scale: linear to 1 kHz (3 mels per 200 Hz), logarithmic above.
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz * 3.0 / 200.0
    logarithmic = 15.0 + np.log(np.maximum(hz, 1e-12) / 1000.0) * 27.0 / np.log(6.4)
    return np.where(hz >= 1000.0, logarithmic, linear)


def _slaney_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * 200.0 / 3.0
    logarithmic = 1000.0 * np.exp((mel - 15.0) * np.log(6.4) / 27.0)
    return np.where(mel >= 15.0, logarithmic, linear)


@functools.cache
def mel_filters() -> np.ndarray:
    """(80, 201) triangular filters over the FFT bins, area-normalized (Slaney), 0-8 kHz: the
    ones Whisper's features use."""
    edges = _slaney_hz(np.linspace(_slaney_mel(0.0), _slaney_mel(SPEECH_RATE / 2), N_MELS + 2))
    bins = np.linspace(0.0, SPEECH_RATE / 2, N_FFT // 2 + 1)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    triangles = np.maximum(0.0, np.minimum(rising, falling))
    return triangles * (2.0 / (upper - lower))


@functools.cache
def _hann() -> np.ndarray:
    # Periodic Hann (as torch.hann_window): the window of a 400-point STFT.
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)


def features(audio: np.ndarray) -> np.ndarray:
    """Whisper-style log-mel features (80 x 800, float32) of 16 kHz float audio, as Smart Turn
    takes them: the last 8 s, zero-padded at the start; the waveform scaled to zero mean and
    unit variance; a centred 400-point STFT every 160 samples; log10 of the mel power, floored
    8 (decades) below its peak and mapped by (x + 4) / 4."""
    audio = np.asarray(audio, dtype=np.float32)[-WINDOW_SAMPLES:]
    window = np.zeros(WINDOW_SAMPLES, dtype=np.float32)
    window[WINDOW_SAMPLES - len(audio) :] = audio  # the speech ends where the window ends
    window = (window - window.mean()) / np.sqrt(window.var() + 1e-7)
    padded = np.pad(window.astype(np.float64), N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]  # 801 frames
    power = np.abs(np.fft.rfft(frames * _hann(), axis=-1)) ** 2
    mel = np.log10(np.maximum(mel_filters() @ power.T, 1e-10))[:, :-1]  # 800: the last dropped
    mel = np.maximum(mel, mel.max() - 8.0)
    return ((mel + 4.0) / 4.0).astype(np.float32)


# --- the model --------------------------------------------------------------------------------


def _load():
    import onnxruntime

    path = model_path()
    if path is None:
        raise RuntimeError(f"The end-of-turn model needs the {PACKAGE} package.")
    options = onnxruntime.SessionOptions()
    # One thread: it shares 2 cores with recognition and synthesis, which run on theirs.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )


def load() -> None:
    """Load the model now, on the calling thread (once per process)."""
    global _session
    with _lock:
        if _session is None:
            started = time.monotonic()
            _session = _load()
            logger.info("loaded smart-turn in %.2f s", time.monotonic() - started)


def completion(pcm16k: bytes) -> float:
    """The probability (0..1) that the speech in 16 kHz mono pcm16 (ending at the pause) is a
    finished turn; blocking: call it on a worker thread."""
    load()
    assert _session is not None  # `load` made it or raised
    audio = np.frombuffer(pcm16k, dtype=np.int16).astype(np.float32) / 32768.0
    (probability,) = _session.run(None, {"input_features": features(audio)[np.newaxis]})
    return float(np.asarray(probability).reshape(-1)[0])


async def completion_async(pcm16k: bytes, session: Hashable = None, priority: int = URGENT):
    """`completion` on the end-of-turn thread, fairly shared by the process's sessions."""
    return await judging.run(session, completion, pcm16k, priority=priority)


def warm_up() -> None:
    """Start loading the model on its thread, so the first pause does not wait for it."""
    if _session is None and available() and not judging.waiting("warm-up"):
        judging.submit("warm-up", load)
