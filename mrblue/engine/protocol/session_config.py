"""The session configuration: defaults, and validated updates in the GA shape.

`apply_update` is used for `session.update`, for the `session` of a client-secret request and
for the per-response overrides of `response.create`; all raise ProtocolError on bad input.
"""

import copy
import time

from mrblue.engine.protocol import echoed_fields
from mrblue.engine.protocol.events import ProtocolError, new_id
from mrblue.engine.protocol.fields import choice, get, nesting_within, no_unknown, number_in
from mrblue.engine.protocol.spec import (
    DEFAULT_VOICE,
    EAGERNESS,
    FORMATS,
    LIMITS,
    NOISE_REDUCTION,
    PCM_FORMAT,
    PROTOCOL_RATE,
    SEMANTIC_VAD_DEFAULTS,
    SERVER_VAD_DEFAULTS,
    VOICES,
)

# What a session that names no instructions is told (the app always names its own).
GENERIC_INSTRUCTIONS = (
    "You are a helpful, witty and friendly assistant. Keep your answers short and speak clearly."
)
# Top-level keys of the beta interface, refused since it was shut down.
BETA_KEYS = (
    "modalities",
    "voice",
    "input_audio_format",
    "output_audio_format",
    "input_audio_transcription",
    "turn_detection",
    "temperature",
)
SESSION_KEYS = (
    "type",
    "model",
    "instructions",
    "output_modalities",
    "audio",
    "tools",
    "tool_choice",
    "max_output_tokens",
    "tracing",
    "truncation",
    "include",
    "prompt",
    # Echoed back from session.created by some clients; read-only, ignored.
    "id",
    "object",
    "expires_at",
)
READ_ONLY = ("id", "object", "expires_at")
MAX_SCHEMA_DEPTH = 32  # a tool's parameters, in arrays and objects


def default_session(model: str = "gpt-realtime", lifetime_s: int = 3600) -> dict:
    """A new session's configuration, as `session.created` reports it."""
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": new_id("sess"),
        "model": model,
        "output_modalities": ["audio"],
        "instructions": GENERIC_INSTRUCTIONS,
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": int(time.time()) + lifetime_s,
        "include": None,
        "audio": {
            "input": {
                "format": dict(PCM_FORMAT),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": dict(SERVER_VAD_DEFAULTS),
            },
            "output": {"format": dict(PCM_FORMAT), "voice": DEFAULT_VOICE, "speed": 1.0},
        },
    }


def apply_update(session: dict, update, param: str = "session") -> dict:
    """Return `session` with a GA `session.update` payload applied; raise ProtocolError."""
    if not isinstance(update, dict):
        raise ProtocolError(
            "invalid_type", f"Invalid type for '{param}': expected an object.", param
        )
    beta = [key for key in BETA_KEYS if key in update]
    if beta or "type" not in update:
        raise ProtocolError(
            "beta_api_shape_disabled",
            "The beta Realtime interface has been shut down. Send the GA shape: "
            "session.type 'realtime', output_modalities, and audio.input / audio.output"
            + (f" instead of {', '.join(beta)}." if beta else "."),
            f"{param}.{beta[0]}" if beta else f"{param}.type",
        )
    choice(update["type"], ("realtime",), f"{param}.type")
    no_unknown(update, SESSION_KEYS, param)
    result = copy.deepcopy(session)
    for key in ("model", "instructions"):
        value = get(update, key, str, f"{param}.{key}")
        if value is not None:
            result[key] = value
    _apply_response_fields(result, update, param)
    if "audio" in update:
        _apply_audio(result, get(update, "audio", dict, f"{param}.audio"), f"{param}.audio")
    for key, check in echoed_fields.SESSION_FIELDS.items():
        if key in update:
            result[key] = check(update[key], f"{param}.{key}")
    return result


def apply_response_overrides(session: dict, overrides, param: str = "response") -> dict:
    """The effective config of one response: the session with `response.create` overrides."""
    if overrides is None:
        return copy.deepcopy(session)
    get({"response": overrides}, "response", dict, param)
    no_unknown(
        overrides,
        (
            "conversation",
            "input",
            "instructions",
            "output_modalities",
            "tools",
            "tool_choice",
            "max_output_tokens",
            "metadata",
            "audio",
            "prompt",
        ),
        param,
    )
    result = copy.deepcopy(session)
    instructions = get(overrides, "instructions", str, f"{param}.instructions")
    if instructions is not None:
        result["instructions"] = instructions
    _apply_response_fields(result, overrides, param)
    if "audio" in overrides:
        audio = get(overrides, "audio", dict, f"{param}.audio")
        no_unknown(audio, ("output",), f"{param}.audio")
        _apply_audio(result, audio, f"{param}.audio")
    conversation = get(overrides, "conversation", str, f"{param}.conversation", default="auto")
    result["conversation"] = choice(conversation, ("auto", "none"), f"{param}.conversation")
    result["metadata"] = echoed_fields.metadata(overrides.get("metadata"), f"{param}.metadata")
    if "prompt" in overrides:
        echoed_fields.prompt(overrides["prompt"], f"{param}.prompt")  # checked, but not used
    if "input" in overrides:
        result["input"] = get(overrides, "input", list, f"{param}.input")
    return result


def _apply_response_fields(result: dict, update: dict, param: str) -> None:
    if "output_modalities" in update:
        modalities = get(update, "output_modalities", list, f"{param}.output_modalities")
        if modalities not in (["text"], ["audio"]):
            raise ProtocolError(
                "invalid_value",
                "output_modalities must be ['audio'] or ['text']; both at once are not supported.",
                f"{param}.output_modalities",
            )
        result["output_modalities"] = list(modalities)
    if "tools" in update:
        result["tools"] = _tools(get(update, "tools", list, f"{param}.tools"), f"{param}.tools")
    if "tool_choice" in update:
        result["tool_choice"] = _tool_choice(update["tool_choice"], f"{param}.tool_choice")
    if "max_output_tokens" in update:
        value = get(update, "max_output_tokens", (int, str), f"{param}.max_output_tokens")
        if isinstance(value, str):
            choice(value, ("inf",), f"{param}.max_output_tokens")
        else:
            number_in(value, *LIMITS["max_output_tokens"], f"{param}.max_output_tokens")
        result["max_output_tokens"] = value


def _tools(tools: list, param: str) -> list:
    checked = []
    for index, tool in enumerate(tools):
        where = f"{param}[{index}]"
        get({"t": tool}, "t", dict, where)
        kind = get(tool, "type", str, f"{where}.type", default="function")
        if kind != "function":
            raise ProtocolError(
                "invalid_value",
                f"Tool type '{kind}' is not supported by this engine; use 'function' tools.",
                f"{where}.type",
            )
        no_unknown(tool, ("type", "name", "description", "parameters"), where)
        name = get(tool, "name", str, f"{where}.name", required=True)
        checked.append(
            {
                "type": "function",
                "name": name,
                "description": get(tool, "description", str, f"{where}.description", default=""),
                "parameters": _parameters(tool, f"{where}.parameters"),
            }
        )
    return checked


def _parameters(tool: dict, param: str) -> dict:
    """A tool's JSON schema: an object whose `properties`, if any, are schemas (objects),
    nested at most `MAX_SCHEMA_DEPTH` deep. (Brains read it; the page checks the values.)"""
    schema = get(tool, "parameters", dict, param, default={"type": "object", "properties": {}})
    nesting_within(schema, MAX_SCHEMA_DEPTH, param)
    properties = get(schema, "properties", dict, f"{param}.properties", default={})
    for name in properties:
        get(properties, name, dict, f"{param}.properties.{name}")
    return schema


def _tool_choice(value, param: str):
    if isinstance(value, str):
        return choice(value, ("auto", "none", "required"), param)
    get({"c": value}, "c", dict, param)
    choice(get(value, "type", str, f"{param}.type", required=True), ("function",), f"{param}.type")
    return {"type": "function", "name": get(value, "name", str, f"{param}.name", required=True)}


def _apply_audio(result: dict, audio: dict, param: str) -> None:
    no_unknown(audio, ("input", "output"), param)
    if "input" in audio:
        _apply_audio_input(
            result["audio"]["input"], get(audio, "input", dict, f"{param}.input"), f"{param}.input"
        )
    if "output" in audio:
        _apply_audio_output(
            result["audio"]["output"],
            get(audio, "output", dict, f"{param}.output"),
            f"{param}.output",
        )


def _format(value, param: str) -> dict:
    get({"f": value}, "f", dict, param)
    no_unknown(value, ("type", "rate"), param)
    kind = choice(get(value, "type", str, f"{param}.type", required=True), FORMATS, f"{param}.type")
    if kind == "audio/pcm":
        rate = get(value, "rate", int, f"{param}.rate", default=PROTOCOL_RATE)
        choice(rate, (PROTOCOL_RATE,), f"{param}.rate")
        return dict(PCM_FORMAT)
    return {"type": kind}


def _apply_audio_input(current: dict, update: dict, param: str) -> None:
    no_unknown(update, ("format", "transcription", "noise_reduction", "turn_detection"), param)
    if "format" in update:
        current["format"] = _format(update["format"], f"{param}.format")
    if "transcription" in update:
        current["transcription"] = _transcription(update["transcription"], f"{param}.transcription")
    if "noise_reduction" in update:
        value = get(update, "noise_reduction", dict, f"{param}.noise_reduction", nullable=True)
        if value is not None:
            no_unknown(value, ("type",), f"{param}.noise_reduction")
            choice(value.get("type"), NOISE_REDUCTION, f"{param}.noise_reduction.type")
            value = {"type": value["type"]}
        current["noise_reduction"] = value
    if "turn_detection" in update:
        current["turn_detection"] = turn_detection(
            update["turn_detection"], f"{param}.turn_detection"
        )


def _transcription(value, param: str):
    value = get({"t": value}, "t", dict, param, nullable=True)
    if value is None:
        return None
    no_unknown(value, ("model", "language", "prompt"), param)
    result = {"model": get(value, "model", str, f"{param}.model", default="whisper-1")}
    for key in ("language", "prompt"):
        if value.get(key) is not None:
            result[key] = get(value, key, str, f"{param}.{key}")
    return result


def turn_detection(value, param: str):
    """Validate a turn_detection object and fill in its defaults; None means push-to-talk."""
    value = get({"t": value}, "t", dict, param, nullable=True)
    if value is None:
        return None
    kind = choice(
        get(value, "type", str, f"{param}.type", required=True),
        ("server_vad", "semantic_vad"),
        f"{param}.type",
    )
    defaults = SERVER_VAD_DEFAULTS if kind == "server_vad" else SEMANTIC_VAD_DEFAULTS
    no_unknown(value, defaults, param)
    result = dict(defaults)
    for key in ("create_response", "interrupt_response"):
        result[key] = get(value, key, bool, f"{param}.{key}", default=defaults[key])
    if kind == "semantic_vad":
        eagerness = get(
            value, "eagerness", str, f"{param}.eagerness", default=defaults["eagerness"]
        )
        result["eagerness"] = choice(eagerness, EAGERNESS, f"{param}.eagerness")
        return result
    for key, number in (
        ("threshold", float),
        ("prefix_padding_ms", int),
        ("silence_duration_ms", int),
    ):
        result[key] = number_in(
            get(value, key, number, f"{param}.{key}", default=defaults[key]),
            *LIMITS[key],
            f"{param}.{key}",
        )
    idle = get(value, "idle_timeout_ms", int, f"{param}.idle_timeout_ms", nullable=True)
    result["idle_timeout_ms"] = (
        None
        if idle is None
        else number_in(idle, *LIMITS["idle_timeout_ms"], f"{param}.idle_timeout_ms")
    )
    return result


def _apply_audio_output(current: dict, update: dict, param: str) -> None:
    no_unknown(update, ("format", "voice", "speed"), param)
    if "format" in update:
        current["format"] = _format(update["format"], f"{param}.format")
    if "voice" in update:
        current["voice"] = choice(
            get(update, "voice", str, f"{param}.voice"), VOICES, f"{param}.voice"
        )
    if "speed" in update:
        current["speed"] = number_in(
            get(update, "speed", float, f"{param}.speed"), *LIMITS["speed"], f"{param}.speed"
        )


def public_session(session: dict) -> dict:
    """The session as the protocol reports it (engine-only keys left out)."""
    return {key: value for key, value in session.items() if key in SESSION_KEYS}
