"""Turn detection: when the person starts and stops speaking, from 16 kHz audio.

`TurnDetector` is a state machine with no I/O: feed it audio, get `SpeechStarted`,
`PauseBegan` and `SpeechStopped` back, with times in milliseconds of session audio (the
protocol's `audio_start_ms` / `audio_end_ms`). The speech probability comes from a callable,
Silero by default, so tests can drive it with a scripted one.

With `semantic_vad` and an end-of-turn model (`judging=True`), a pause asks a question
instead of running a fixed timer: `feed` stops at a `TurnCheck` carrying the turn's audio,
and the caller answers with `judged(probability)` (the model's, run wherever it likes), then
feeds on. Stopping there keeps the decision in audio time, whatever the speed of the audio.
While Mr. Blue speaks (`barge_in`), a short sound asks another question the same way: a
`WordsCheck` (were those words asking it to stop?), answered with `heard`.
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
# semantic_vad without its end-of-turn model (not installed, or failing): eagerness maps to
# how long a pause ends a turn. "high" still waits out a spoken comma (piper's pause there,
# and people's), so a sentence is not cut at its first clause.
EAGERNESS_SILENCE_MS = {"low": 1200, "medium": 800, "auto": 600, "high": 450}
MIN_SPEECH_MS = 96  # ignore clicks shorter than three chunks
# While Mr. Blue speaks, a cough, a click, an "hmm" or a "yeah" must not cut its answer (the
# peers wait 0.5 s of speech, or for words). A sound is heard out: once it is followed by this
# much quiet, the caller is asked whether it was words asking Mr. Blue to stop (`WordsCheck`):
# "Stop." is, "Mhm." is not, however long ...
BARGE_IN_WORDS_AFTER_MS = 160
# ... and speech this long without such a pause barges in by its length alone (talking over
# the answer). Silero hears piper's "Mhm." as 544 ms of speech, espeak's backchannels 350-480.
BARGE_IN_SPEECH_MS = 640
# At most one such question a second (of audio): each is a recognition (0.5 s of a core on a
# slow machine), and noise can make one sound after another. A sound in between is let go.
WORDS_CHECK_EVERY_MS = 1000
# semantic_vad with the end-of-turn model: it is asked after this much silence (Pipecat asks
# after 200 ms too), and once more later in the same pause if it did not hear the turn
# complete (it is surer with more silence: "Make the heading blue." 0.30 at 200 ms, 0.85 at
# 400 ms; a hesitation stays at 0.01) ...
SEMANTIC_ASK_MS = (192, 416)
# ... and a pause it hears as unfinished ends the turn after at most this much silence
# (OpenAI's semantic_vad: 8/4/2 s for low/medium/high; auto is medium).
EAGERNESS_MAX_WAIT_MS = {"low": 8000, "medium": 4000, "auto": 4000, "high": 2000}
PRE_SPEECH_MS = 500  # the model hears the turn from a little before its speech began
# A short sound is recognised from just before it: an earlier one's tail (the "Yeah." before a
# "Stop.") makes Whisper unsure of it.
WORDS_PRE_MS = 150
JUDGED_WINDOW_MS = 8000  # and at most the last 8 s of it
# The model's probability from which a turn is complete, per ask: its own 0.5 at the first;
# more at the later one, where silence alone leans it towards "complete" ("Can you make the,
# um," 0.06 at 192 ms, 0.71 at 416 ms).
COMPLETE = (0.5, 0.8)
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
class TurnCheck:
    """semantic_vad: the person paused at `audio_end_ms`; is the turn complete? `pcm16k` is
    the turn's audio so far (16 kHz pcm16, at most the last 8 s, the pause's silence last).
    Answer with `TurnDetector.judged`."""

    audio_end_ms: int
    pcm16k: bytes


@dataclass
class WordsCheck:
    """While Mr. Blue speaks, a sound too short to barge in by its length alone ended: were
    those words that ask it to stop? `pcm16k` is the sound (16 kHz pcm16, from a little
    before it), `speech_ms` how much of it was speech. Answer with `TurnDetector.heard`."""

    audio_start_ms: int
    audio_end_ms: int
    pcm16k: bytes
    speech_ms: float


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

    def __init__(self, turn_detection: dict, probability=None, judging: bool = False):
        self.probability = probability or silero_probability()
        self.judging = judging  # an end-of-turn model answers semantic_vad's checks
        self.configure(turn_detection)
        self._pending = bytearray()
        self._recent = bytearray()  # the last audio, for the end-of-turn model
        self.asking: TurnCheck | WordsCheck | None = None  # waiting for `judged` / `heard`
        self.barge_in = False  # Mr. Blue is speaking: only real speech starts a turn
        self._needed_ms: float = self.silence_ms  # the silence that ends this pause's turn
        self.elapsed_ms = 0.0  # session audio seen so far
        self.speaking = False
        self._speech_ms = 0.0
        self._silence_ms = 0.0
        self._start_ms = 0.0
        self._pause_told = False
        self._asked = 0  # the checks this pause made
        self._quiet_ms = 0.0  # non-speech since the last speech, before a turn starts
        self._words_asked_ms = -float(WORDS_CHECK_EVERY_MS)  # the latest WordsCheck's time

    def configure(self, turn_detection: dict) -> None:
        """Apply (new) turn-detection settings, e.g. after `session.update`."""
        self.threshold = turn_detection.get("threshold", 0.5)
        self.ask_at_ms: tuple[int, ...] | None = None  # no model: the silence alone ends the turn
        if turn_detection["type"] == "semantic_vad":
            self.threshold = 0.5
            eagerness = turn_detection.get("eagerness", "auto")
            self.silence_ms = EAGERNESS_SILENCE_MS[eagerness]
            self.fallback_ms = self.silence_ms  # when the model fails
            if self.judging:
                self.ask_at_ms = SEMANTIC_ASK_MS
                self.silence_ms = EAGERNESS_MAX_WAIT_MS[eagerness]
        else:
            self.silence_ms = turn_detection.get("silence_duration_ms", 500)
        self._needed_ms = self.silence_ms
        self.pause_ms = max(CHUNK_MS, min(self.silence_ms / 2, EARLY_PAUSE_MS))

    def feed(self, pcm16k: bytes) -> list:
        """Feed 16 kHz mono pcm16; return the turn events it completes. After a `TurnCheck`
        or a `WordsCheck` (always the last event) it takes no more audio until `judged` or
        `heard` answers it: what was fed meanwhile waits, and the next `feed` (of b"" if need
        be) goes on with it."""
        self._pending.extend(pcm16k)
        events = []
        while len(self._pending) >= CHUNK_BYTES and self.asking is None:
            chunk = bytes(self._pending[:CHUNK_BYTES])
            del self._pending[:CHUNK_BYTES]
            if self.ask_at_ms is not None or self.barge_in:
                self._remember(chunk)
            event = self._step(self.probability(chunk) >= self.threshold)
            if event is not None:
                events.append(event)
        return events

    def judged(self, probability: float | None, unfinished: bool = False) -> list:
        """The answer to the pending `TurnCheck`: the end-of-turn model's probability (None:
        it failed), and whether the words heard up to the pause stop midway ("... to", "um";
        `turn_words.unfinished`). A complete turn ends at the pause; otherwise the pause may
        still end it, after a silence as long as the model is sure it is unfinished (up to the
        eagerness limit). Words that stop midway wait that limit, whatever the model says."""
        check, self.asking = self.asking, None
        if not isinstance(check, TurnCheck) or not self.speaking:
            return []
        complete = COMPLETE[min(self._asked, len(COMPLETE)) - 1]
        asked_at = self._silence_ms
        if unfinished:
            self._needed_ms = self.silence_ms
        elif probability is None:
            self._needed_ms = max(self.fallback_ms, asked_at)
        elif probability >= complete:
            return [self._stopped(check.audio_end_ms)]
        else:
            # 0.45 ("maybe") waits a little longer; 0.01 ("surely not") the whole limit.
            doubt = 1.0 - probability / complete
            self._needed_ms = asked_at + (self.silence_ms - asked_at) * doubt
        return []

    def heard(self, interrupting: bool) -> list:
        """The answer to the pending `WordsCheck`: whether its sound was words asking Mr. Blue
        to stop (`turn_words.interrupts`). If so, the turn starts where the sound began, its
        silence counted from where it ended."""
        check, self.asking = self.asking, None
        if not isinstance(check, WordsCheck) or self.speaking:
            return []
        if not interrupting:
            self._speech_ms = 0.0  # heard out: what comes next is a new sound
            return []
        self.speaking, self._asked, self._pause_told = True, 0, False
        self._silence_ms, self._needed_ms = self._quiet_ms, self.silence_ms
        return [SpeechStarted(check.audio_start_ms)]

    @property
    def held_ms(self) -> float:
        """Audio a turn not yet started may still need: since a sound began (0 without one)."""
        return self.elapsed_ms - self._start_ms if self._speech_ms and not self.speaking else 0.0

    def _remember(self, chunk: bytes) -> None:
        self._recent.extend(chunk)
        keep = int((JUDGED_WINDOW_MS + PRE_SPEECH_MS) * SPEECH_RATE / 1000) * 2
        if len(self._recent) > keep:
            del self._recent[: len(self._recent) - keep]

    def _turn_audio(self, before_ms: float = PRE_SPEECH_MS) -> bytes:
        """The turn so far (from `before_ms` before its start), at most the model's window."""
        first_ms = self.elapsed_ms - len(self._recent) / 2 * 1000 / SPEECH_RATE
        from_ms = max(self._start_ms - before_ms, first_ms, self.elapsed_ms - JUDGED_WINDOW_MS)
        offset = int((from_ms - first_ms) * SPEECH_RATE / 1000) * 2
        return bytes(self._recent[offset:])

    def _stopped(self, end_ms: int) -> SpeechStopped:
        self.speaking, self._speech_ms, self._pause_told = False, 0.0, False
        return SpeechStopped(end_ms)

    def _step(self, voiced: bool):
        self.elapsed_ms += CHUNK_MS
        if not self.speaking:
            if voiced:
                if self._speech_ms == 0:
                    self._start_ms = self.elapsed_ms - CHUNK_MS
                self._speech_ms += CHUNK_MS
                self._quiet_ms = 0.0
                if self._speech_ms >= (BARGE_IN_SPEECH_MS if self.barge_in else MIN_SPEECH_MS):
                    self.speaking, self._silence_ms, self._asked = True, 0.0, 0
                    self._needed_ms = self.silence_ms
                    return SpeechStarted(int(self._start_ms))
            elif self.barge_in and self._speech_ms:
                self._quiet_ms += CHUNK_MS
                if self._quiet_ms >= BARGE_IN_WORDS_AFTER_MS:
                    # A click, or too soon after the last question: not worth asking about.
                    too_soon = self.elapsed_ms - self._words_asked_ms < WORDS_CHECK_EVERY_MS
                    if self._speech_ms < MIN_SPEECH_MS or too_soon:
                        self._speech_ms = 0.0
                        return None
                    self._words_asked_ms = self.elapsed_ms
                    end_ms = int(self.elapsed_ms - self._quiet_ms)
                    self.asking = WordsCheck(
                        int(self._start_ms), end_ms, self._turn_audio(WORDS_PRE_MS), self._speech_ms
                    )
                    return self.asking
            else:
                self._speech_ms = 0.0
            return None
        if voiced:
            self._silence_ms, self._pause_told, self._asked = 0.0, False, 0
            self._needed_ms = self.silence_ms  # a new pause asks afresh
            return None
        self._silence_ms += CHUNK_MS
        end_ms = int(self.elapsed_ms - self._silence_ms)
        if self._silence_ms >= self._needed_ms:
            return self._stopped(end_ms)
        asks = self.ask_at_ms or ()
        if self._asked < len(asks) and self._silence_ms >= asks[self._asked]:
            self._asked += 1
            self.asking = TurnCheck(end_ms, self._turn_audio())
            return self.asking
        if self._silence_ms >= self.pause_ms and not self._pause_told:
            self._pause_told = True
            return PauseBegan(end_ms)
        return None
