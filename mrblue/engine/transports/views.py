"""HTTP endpoints of the built-in engine, in the OpenAI API's shapes."""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mrblue.engine.engine_settings import engine_settings
from mrblue.engine.models import EngineClientSecret, hash_secret
from mrblue.engine.protocol import session_config
from mrblue.engine.protocol.events import ProtocolError
from mrblue.engine.protocol.fields import choice, get, no_unknown, number_in
from mrblue.engine.protocol.spec import LIMITS, PROTOCOL_RATE, VOICES
from mrblue.engine.transports.auth import bearer_token, is_engine_key
from mrblue.engine.voice.scheduler import QueueFull
from mrblue.engine.workers import worker
from mrblue.shared.json_input import parse_json

logger = logging.getLogger("mrblue.engine")
Fields = TypeVar("Fields")


def api_error(
    status: int,
    message: str,
    code: str | None = None,
    param: str | None = None,
    type_: str = "invalid_request_error",
) -> JsonResponse:
    """An error answer as OpenAI's API gives it."""
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return JsonResponse(body, status=status)


def engine_busy(reason: str = "full") -> JsonResponse:
    """503 when no session can start here now (full, loaded or draining), with Retry-After."""
    answer = api_error(
        503,
        "Mr. Blue is busy with other calls; try again shortly.",
        "engine_busy",
        type_="server_error",
    )
    answer["Retry-After"] = str(engine_settings.ENGINE_BUSY_RETRY_SECONDS)
    answer["X-Mrblue-Busy"] = reason
    return answer


def user_at_limit(limit: int) -> JsonResponse:
    """429 when the secret's owner already holds their limit of sessions on this worker."""
    return api_error(
        429,
        f"You already have {limit} live sessions, the limit; end one (close another tab or "
        "call) first.",
        "user_session_limit",
    )


def invalid_key() -> JsonResponse:
    """401 for a missing or wrong key (the key itself is never echoed)."""
    return api_error(401, "Incorrect API key provided.", "invalid_api_key")


def keyed_request(
    request: HttpRequest, read: Callable[[object], Fields]
) -> tuple[Fields, None] | tuple[None, JsonResponse]:
    """An engine-key request's JSON body read by `read` (which raises ProtocolError): the
    fields and None, or None and the error answer (401 for the key, 400 naming the field)."""
    if not is_engine_key(bearer_token(request.headers)):
        return None, invalid_key()
    try:
        body = parse_json(request.body or b"{}", strict_text=True)
    except ValueError:
        return None, api_error(
            400, "We could not parse the JSON body of your request.", "invalid_json"
        )
    try:
        return read(body), None
    except ProtocolError as error:
        return None, api_error(400, error.message, error.code, error.param)


@csrf_exempt
@require_POST
def client_secrets(request: HttpRequest) -> JsonResponse:
    """`POST /v1/realtime/client_secrets`: mint an `ek_` secret for a GA session config."""
    fields, refused = keyed_request(request, _read_request)
    if fields is None:
        return refused
    seconds, session, owner = fields
    value, worker_id = EngineClientSecret.new_value(), ""
    if worker.current is not None:  # hold a place here for the session, or say we are full
        try:
            worker.current.promise(hash_secret(value), owner or None)
        except worker.EngineBusy as busy:
            return engine_busy(busy.reason)
        except worker.OwnerAtLimit as limit:
            return user_at_limit(limit.limit)
        worker_id = worker.current.id
    value, row = EngineClientSecret.mint(session, seconds, owner, worker_id, value)
    logger.info("minted an engine client secret for %s s (model %s)", seconds, session["model"])
    expires_at = int(row.expires_at.timestamp())
    return JsonResponse(
        {
            "value": value,
            "expires_at": expires_at,
            "session": {**session_config.public_session(session), "expires_at": expires_at},
        }
    )


def _read_request(body: object) -> tuple[int, dict, str]:
    if not isinstance(body, dict):
        raise ProtocolError("invalid_type", "The request body must be a JSON object.")
    no_unknown(body, ("expires_after", "session", OWNER_FIELD), "")
    owner = _owner(body)
    expires = get(body, "expires_after", dict, "expires_after", default={})
    no_unknown(expires, ("anchor", "seconds"), "expires_after")
    anchor = get(expires, "anchor", str, "expires_after.anchor", default="created_at")
    if anchor != "created_at":
        raise ProtocolError(
            "invalid_value", "expires_after.anchor must be 'created_at'.", "expires_after.anchor"
        )
    seconds = get(
        expires,
        "seconds",
        int,
        "expires_after.seconds",
        default=engine_settings.ENGINE_SECRET_SECONDS,
    )
    number_in(seconds, *LIMITS["expires_after.seconds"], "expires_after.seconds")
    base = session_config.default_session(engine_settings.DEFAULT_MODEL)
    session = get(body, "session", dict, "session", default={"type": "realtime"})
    session = session_config.apply_update(base, session, "session")
    session["expires_at"] = int(time.time()) + engine_settings.ENGINE_SESSION_SECONDS
    return seconds, session, owner


# An extension of OpenAI's request: the app names who a secret is for (an opaque tag, e.g. a
# user id), so the engine can bound one user's live sessions over all their secrets. Only the
# engine key mints, so only the server can name an owner.
OWNER_FIELD = "mrblue_owner"
MAX_OWNER_CHARS = 128


def _owner(body: dict) -> str:
    owner = get(body, OWNER_FIELD, str, OWNER_FIELD, default="")
    if OWNER_FIELD in body and not 1 <= len(owner) <= MAX_OWNER_CHARS:
        raise ProtocolError(
            "invalid_value",
            f"'{OWNER_FIELD}' is a tag of 1 to {MAX_OWNER_CHARS} characters.",
            OWNER_FIELD,
        )
    return owner


@csrf_exempt
@require_POST
async def calls(request: HttpRequest) -> HttpResponse:
    """`POST /v1/realtime/calls`: an SDP offer in, 201 with the answer and `Location` out."""
    from channels.db import database_sync_to_async

    from mrblue.engine.transports.auth import session_for_key
    from mrblue.engine.transports.sdp import OfferRefused, check_offer
    from mrblue.engine.transports.webrtc import start_call
    from mrblue.engine.workers.live_sessions import SessionRefused, sessions

    access = await database_sync_to_async(session_for_key)(
        bearer_token(request.headers), request.GET.get("model")
    )
    if access is None:
        return invalid_key()
    if request.content_type != "application/sdp":
        return api_error(
            400, "Send the SDP offer with Content-Type: application/sdp.", "invalid_content_type"
        )
    try:
        offer = check_offer(request.body)
    except OfferRefused as refused:
        return api_error(400, str(refused), "invalid_offer")
    if not worker.admits(access.secret):  # (only a worker refuses: `current` is set)
        draining = worker.current is not None and worker.current.capacity.draining
        return engine_busy("draining" if draining else "full")
    try:
        slot = sessions.admit(access.secret, access.owner, worker.reserved(access.owner))
    except SessionRefused as refused:
        return api_error(429, refused.message, refused.code)
    try:
        call = await start_call(offer, access.config, slot)  # the call gives the place back
    except Exception as exc:  # aiortc refused it (e.g. no codec in common)
        slot.release()
        logger.warning("could not answer an SDP offer: %s: %s", type(exc).__name__, exc)
        return api_error(400, "The SDP offer could not be answered.", "invalid_offer")
    response = HttpResponse(call.answer_sdp, status=201, content_type="application/sdp")
    response["Location"] = f"/v1/realtime/calls/{call.id}"
    return response


@csrf_exempt
@require_POST
async def hangup(request: HttpRequest, call_id: str) -> HttpResponse:
    """`POST /v1/realtime/calls/<id>/hangup` (engine key): end a call from the server side."""
    from mrblue.engine.transports.webrtc import calls as live_calls

    if not is_engine_key(bearer_token(request.headers)):
        return invalid_key()
    call = live_calls.get(call_id)
    if call is None:
        return api_error(404, f"No live call {call_id}.", "call_not_found")
    await call.close()
    return HttpResponse(status=200)


def health(request: HttpRequest) -> JsonResponse:
    """`GET /healthz` on a worker: its status (`starting`, `ok`, `draining`), load, sessions."""
    if worker.current is None:
        return JsonResponse({"status": "ok", "role": engine_settings.ENGINE_ROLE})
    answer = worker.current.health()
    return JsonResponse(answer)


# `POST /v1/audio/speech`, as OpenAI's speech endpoint takes it: what the admin's voice
# samples play. Formats the engine makes without an encoder; OpenAI's default (mp3) is not one.
SPEECH_FORMATS = {"wav": "audio/wav", "pcm": "audio/pcm"}
SPEECH_FIELDS = ("model", "input", "voice", "instructions", "response_format", "speed")
MAX_SPEECH_INPUT = 4096  # characters, OpenAI's limit too
SPEECH_SPEED = (0.25, 4.0)  # OpenAI's range; piper speaks at most LIMITS["speed"]'s fastest
SPEECH_SESSION = "speech-endpoint"  # its share of the synthesis thread, next to the calls'


@csrf_exempt
@require_POST
async def speech(request: HttpRequest) -> HttpResponse:
    """`POST /v1/audio/speech` (engine key) `{"input", "voice", "speed", "response_format"}`:
    the text spoken in that voice, as `wav` (the default) or raw 24 kHz `pcm`. `model` and
    `instructions` are read and not used: the voice is the engine's piper voice for it."""
    from mrblue.engine.voice import speech as speech_models  # numpy, av: only when speaking
    from mrblue.engine.voice.audio import wav_bytes

    fields, refused = keyed_request(request, read_speech_request)
    if fields is None:
        return refused
    text, voice, speed, audio_format = fields
    if worker.current is not None and worker.current.capacity.draining:
        return engine_busy("draining")
    if not speech_models.tts_available():
        return api_error(
            503,
            "Speech synthesis is not installed on this engine (the `tts` extra: piper-tts and "
            "a piper voice).",
            "tts_unavailable",
            type_="server_error",
        )
    try:
        pcm = await speech_models.synthesize(text, voice, speed, session=SPEECH_SESSION)
    except QueueFull:
        return engine_busy("full")
    if audio_format == "wav":
        pcm = wav_bytes(pcm, PROTOCOL_RATE)
    return HttpResponse(pcm, content_type=SPEECH_FORMATS[audio_format])


def read_speech_request(body: object) -> tuple[str, str, float, str]:
    """(input, voice, speed, response_format) of a speech request, or ProtocolError."""
    if not isinstance(body, dict):
        raise ProtocolError("invalid_type", "The request body must be a JSON object.")
    no_unknown(body, SPEECH_FIELDS, "")
    get(body, "model", str, "model")
    get(body, "instructions", str, "instructions")
    text = get(body, "input", str, "input", required=True)
    if not text.strip() or len(text) > MAX_SPEECH_INPUT:
        raise ProtocolError(
            "invalid_value", f"'input' is 1 to {MAX_SPEECH_INPUT} characters of text.", "input"
        )
    voice = choice(get(body, "voice", str, "voice", required=True), VOICES, "voice")
    speed = number_in(get(body, "speed", float, "speed", default=1.0), *SPEECH_SPEED, "speed")
    audio_format = get(body, "response_format", str, "response_format", default="wav")
    choice(audio_format, tuple(SPEECH_FORMATS), "response_format")
    return text, voice, float(speed), audio_format
