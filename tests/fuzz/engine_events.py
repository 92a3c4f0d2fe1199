"""Client events of the Realtime GA protocol, generated from their shapes with wrong parts.

Most values are right (so sequences reach deep states: items to truncate, responses to cancel),
some are junk of any type; ids come from a small pool so that later events find earlier items.
"""

from hypothesis import strategies as st

from editor.tools import EDITOR_TOOLS
from tests.fuzz.strategies import (
    base64_audio,
    garbage_bytes,
    garbage_text,
    junk,
    mostly,
    short_text,
    tricky_text,
)

VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
item_ids = st.one_of(
    st.sampled_from(["a", "b", "item_1", "root", "x" * 33, "bad id", ""]), short_text
)


def _obj(required: dict, optional: dict | None = None) -> st.SearchStrategy:
    return st.fixed_dictionaries(required, optional=optional or {})


# --- session ----------------------------------------------------------------------------------

audio_format = mostly(
    _obj(
        {"type": mostly(st.sampled_from(["audio/pcm", "audio/pcmu", "audio/pcma", "audio/wav"]))},
        {"rate": mostly(st.sampled_from([24000, 16000]))},
    )
)
turn_detection = st.one_of(
    st.none(),
    _obj(
        {"type": mostly(st.sampled_from(["server_vad", "semantic_vad"]))},
        {
            "threshold": mostly(st.floats(-1, 2)),
            "prefix_padding_ms": mostly(st.integers(-10, 20_000)),
            "silence_duration_ms": mostly(st.integers(-10, 20_000)),
            "idle_timeout_ms": mostly(st.none() | st.integers(0, 60_000)),
            "create_response": mostly(st.booleans()),
            "interrupt_response": mostly(st.booleans()),
            "eagerness": mostly(st.sampled_from(["low", "medium", "high", "auto", "eager"])),
        },
    ),
    junk,
)
transcription = st.one_of(
    st.none(),
    _obj(
        {},
        {
            "model": mostly(st.sampled_from(["whisper-1", "gpt-4o-transcribe"]) | short_text),
            "language": mostly(st.sampled_from(["en", "de"]) | short_text),
            "prompt": mostly(short_text),
        },
    ),
    junk,
)
audio_input = _obj(
    {},
    {
        "format": audio_format,
        "transcription": transcription,
        "noise_reduction": st.none()
        | _obj({"type": mostly(st.sampled_from(["near_field", "far_field"]))})
        | junk,
        "turn_detection": turn_detection,
        "bogus": junk,
    },
)
audio_output = _obj(
    {},
    {
        "format": audio_format,
        "voice": mostly(st.sampled_from(VOICES + ("fable", "nova"))),
        "speed": mostly(st.floats(0, 3)),
    },
)
audio = _obj({}, {"input": mostly(audio_input), "output": mostly(audio_output)})
tool = mostly(
    st.sampled_from(EDITOR_TOOLS)
    | _obj(
        {"type": mostly(st.just("function")), "name": mostly(short_text)},
        {"description": mostly(short_text), "parameters": junk},
    )
)
tool_choice = mostly(
    st.sampled_from(["auto", "none", "required", "any"])
    | _obj({"type": mostly(st.just("function")), "name": mostly(short_text)})
)
modalities = mostly(st.sampled_from([["text"], ["audio"], ["text", "audio"], []]))
max_tokens = mostly(st.just("inf") | st.integers(-5, 5000))
session = _obj(
    {"type": mostly(st.just("realtime"))},
    {
        "instructions": mostly(tricky_text),
        "output_modalities": modalities,
        "audio": mostly(audio),
        "tools": mostly(st.lists(tool, max_size=3)),
        "tool_choice": tool_choice,
        "max_output_tokens": max_tokens,
    },
)
# Rarely right: the beta shape, read-only and free-form keys, unknown ones.
odd_session = _obj(
    {"type": mostly(st.just("realtime"))},
    {
        "model": junk,
        "tracing": junk,
        "truncation": junk,
        "include": junk,
        "prompt": junk,
        "id": junk,
        "expires_at": junk,
        "voice": junk,
        "modalities": junk,
        "bogus": junk,
    },
)

# --- items ------------------------------------------------------------------------------------

content_part = mostly(
    _obj(
        {
            "type": mostly(
                st.sampled_from(["input_text", "input_audio", "output_text", "output_audio"])
            )
        },
        {
            "text": mostly(tricky_text),
            "audio": mostly(base64_audio),
            "transcript": mostly(st.none() | tricky_text),
        },
    )
)
message = _obj(
    {
        "type": st.just("message"),
        "role": mostly(st.sampled_from(["user", "assistant", "system", "developer"])),
        "content": mostly(st.lists(content_part, max_size=3)),
    },
    {"id": mostly(item_ids), "status": junk, "object": junk},
)
function_call = _obj(
    {"type": st.just("function_call"), "name": mostly(st.sampled_from(["describe_page", "x"]))},
    {"id": mostly(item_ids), "call_id": mostly(short_text), "arguments": mostly(short_text)},
)
function_call_output = _obj(
    {"type": st.just("function_call_output"), "call_id": mostly(short_text)},
    {"id": mostly(item_ids), "output": mostly(tricky_text)},
)
item = st.one_of(message, message, function_call, function_call_output, junk)

# --- events -----------------------------------------------------------------------------------

response_overrides = _obj(
    {},
    {
        "instructions": mostly(tricky_text),
        "output_modalities": modalities,
        "tools": mostly(st.lists(tool, max_size=2)),
        "tool_choice": tool_choice,
        "max_output_tokens": max_tokens,
        "conversation": mostly(st.sampled_from(["auto", "none", "default"])),
        "metadata": mostly(st.none() | st.dictionaries(short_text, short_text, max_size=3)),
        "input": mostly(st.lists(item, max_size=3)),
        "audio": mostly(_obj({}, {"output": mostly(audio_output)})),
        "prompt": junk,
    },
)


def _event(type_: str, required: dict | None = None, optional: dict | None = None):
    return _obj({"type": st.just(type_), **(required or {})}, optional)


client_event = st.one_of(
    _event("session.update", {"session": mostly(session)}),
    _event("session.update", {"session": odd_session}),
    _event("input_audio_buffer.append", {"audio": mostly(base64_audio)}),
    _event("input_audio_buffer.commit"),
    _event("input_audio_buffer.clear"),
    _event("output_audio_buffer.clear"),
    _event(
        "conversation.item.create",
        {"item": mostly(item)},
        {"previous_item_id": mostly(st.none() | item_ids)},
    ),
    _event("conversation.item.retrieve", {"item_id": mostly(item_ids)}),
    _event("conversation.item.delete", {"item_id": mostly(item_ids)}),
    _event(
        "conversation.item.truncate",
        {
            "item_id": mostly(item_ids),
            "content_index": mostly(st.integers(-2, 3)),
            "audio_end_ms": mostly(st.integers(-1000, 10**12)),
        },
    ),
    _event("response.create", optional={"response": mostly(st.none() | response_overrides)}),
    _event("response.cancel", optional={"response_id": mostly(st.none() | short_text)}),
    _obj({"type": mostly(st.sampled_from(["session.create", "response.audio.delta"]))}),
    st.dictionaries(short_text, junk, max_size=3),  # no type at all, most likely
)
# What goes on the wire: ("event", dict) with an event_id added, ("text", str), ("bytes", b).
frame = st.one_of(
    st.tuples(st.just("event"), client_event, st.sampled_from([None, None, None, 7, ""])),
    st.tuples(st.just("text"), garbage_text, st.none()),
    st.tuples(st.just("bytes"), garbage_bytes, st.none()),
)
frames = st.lists(frame, min_size=1, max_size=6)
