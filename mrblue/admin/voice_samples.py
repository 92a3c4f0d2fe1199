"""Voice samples for the admin: a sentence spoken in a voice, by the provider that will speak it.

Both providers take the same request, OpenAI's speech endpoint (`POST {base}/audio/speech`
`{"model", "input", "voice", "speed", "response_format": "wav"}`), so one client serves both,
as the mint's does: OpenAI with its key and `MRBLUE_VOICE_SAMPLE_MODEL`, or the built-in engine
with the engine key, reached in-process (httpx's ASGI transport). The engine's endpoint then
synthesizes here (`inprocess`) or, in a web process of the `gateway` role, which loads no speech
model, on the least-loaded engine worker. Failures become `SampleError`s with the answer our
endpoint gives for them; never the key, never the provider's body.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import httpx

from mrblue.app_settings import app_settings
from mrblue.engine.protocol.spec import VOICES
from mrblue.providers import error_code, retry_after
from mrblue.shared.errors import HttpError

logger = logging.getLogger("mrblue.admin.voice_samples")
SAMPLE_TEXT = (
    "Hello, I'm Mister Blue. Tell me what to change on this page, and I'll do it right away."
)
# A sample of that sentence at the slowest speed is about 12 s of 24 kHz WAV; anything much
# larger is not a sample.
MAX_SAMPLE_BYTES = 4 * 1024 * 1024
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class SampleError(HttpError):
    """Why no sample came, with the HTTP status and code our endpoint answers with."""


@dataclass(frozen=True)
class SpeechService:
    """Where samples are spoken: the endpoint's base URL, its key, the model named, and the
    transport (None: the network)."""

    name: str
    base_url: str
    api_key: str
    model: str
    transport: httpx.AsyncBaseTransport | None = None


def speech_service(engine_url: str) -> SpeechService:
    """The configured provider's speech endpoint; `engine_url` is our own `/v1`."""
    if app_settings.REALTIME_PROVIDER == "openai":
        return SpeechService(
            "openai",
            app_settings.OPENAI_BASE_URL.rstrip("/"),
            app_settings.OPENAI_API_KEY,
            app_settings.VOICE_SAMPLE_MODEL,
        )
    from mrblue.providers import django_app

    transport = httpx.ASGITransport(app=django_app())
    return SpeechService(
        "local", engine_url.rstrip("/"), app_settings.ENGINE_API_KEY, "piper", transport
    )


async def speak_sample(voice: str, speed: float, engine_url: str) -> bytes:
    """The sample sentence spoken in `voice` at `speed`, as WAV; SampleError on any failure."""
    service = speech_service(engine_url)
    body = {
        "model": service.model,
        "input": SAMPLE_TEXT,
        "voice": voice,
        "speed": speed,
        "response_format": "wav",
    }
    headers = {"Authorization": f"Bearer {service.api_key}", "User-Agent": "mrblue/0.1"}
    try:
        async with httpx.AsyncClient(transport=service.transport, timeout=TIMEOUT) as client:
            answer = await client.post(
                f"{service.base_url}/audio/speech", json=body, headers=headers
            )
    except httpx.TimeoutException:
        raise _fail(service, 504, "provider_timeout", "The voice did not answer in time.") from None
    except httpx.HTTPError as error:
        message = f"The speech service could not be reached ({type(error).__name__})."
        raise _fail(service, 502, "provider_unreachable", message) from None
    return read_sample(service, answer)


def read_sample(service: SpeechService, answer: httpx.Response) -> bytes:
    """The WAV of a speech answer, or the SampleError it means."""
    status = answer.status_code
    if status in (401, 403):
        raise _fail(service, 502, "provider_auth", "The speech service refused our key.", status)
    if status in (429, 503):
        code = error_code(answer)
        if code == "tts_unavailable":
            message = "The built-in engine cannot speak here: piper (the `tts` extra) is missing."
            raise _fail(service, 503, code, message, status)
        message = "The speech service is busy; try again shortly."
        retry = retry_after(answer.headers.get("retry-after"))
        busy = code if code == "engine_busy" else "provider_rate_limited"
        raise _fail(service, 503, busy, message, status, retry)
    if status != 200:
        code = "provider_error" if status >= 500 else "provider_rejected"
        raise _fail(service, 502, code, "The speech service could not make the sample.", status)
    audio = answer.content
    if not audio.startswith(b"RIFF") or audio[8:12] != b"WAVE" or len(audio) > MAX_SAMPLE_BYTES:
        message = "The speech service sent something that is not a WAV sample."
        raise _fail(service, 502, "provider_bad_response", message, status)
    return audio


def _fail(service, status, code, message, provider_status=None, retry=None) -> SampleError:
    # Logged once, here; never the key, never the provider's body.
    logger.warning(
        "voice sample from %s failed: %s (provider status %s)", service.name, code, provider_status
    )
    return SampleError(status, code, message, retry)


# --- which voices sound the same -------------------------------------------------------------


def same_sounding(files: dict[str, str | None]) -> list[tuple[str, list[str]]]:
    """Voices that share one offline voice model, as (model name, voices), for each model two
    or more of them share (the voice → model-path mapping of `speech.voice_files`)."""
    shared: dict[str, list[str]] = {}
    for voice in VOICES:
        path = files.get(voice)
        if path:
            shared.setdefault(path, []).append(voice)
    return [
        (Path(path).name.removesuffix(".onnx"), voices)
        for path, voices in shared.items()
        if len(voices) > 1
    ]


def voice_note(provider: str, files: dict[str, str | None]) -> str:
    """What the voice choices sound like with `provider`, for the form: which ones sound the
    same with the built-in engine, or who speaks the samples with OpenAI."""
    if provider == "openai":
        return (
            f"Samples are spoken by OpenAI's speech model ({app_settings.VOICE_SAMPLE_MODEL}) in "
            "the voice of that name; the realtime model's own may differ a little."
        )
    if not any(files.values()):
        return "The built-in engine has no offline voice installed here: Mr. Blue cannot speak."
    groups = same_sounding(files)
    if len(groups) == 1 and len(groups[0][1]) == len(VOICES):
        return (
            f"With the built-in engine all {len(VOICES)} voices sound the same: each is spoken "
            f"by the one offline voice installed, {groups[0][0]}. MRBLUE_TTS_VOICES gives "
            "voices piper models of their own."
        )
    if not groups:
        return "With the built-in engine each voice has an offline voice of its own."
    parts = "; ".join(f"{_listed(voices)} ({model})" for model, voices in groups)
    return f"With the built-in engine these sound the same: {parts}."


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def offline_voice_files() -> dict[str, str | None]:
    """The built-in engine's voice → piper model mapping, as this process's settings give it
    (read without loading piper)."""
    from mrblue.engine.voice.speech import voice_files

    return voice_files()


def current_voice_note() -> str:
    """`voice_note` for the configured provider."""
    provider = app_settings.REALTIME_PROVIDER
    return voice_note(provider, {} if provider == "openai" else offline_voice_files())
