"""Conversation items: validating the ones clients create, the text a brain reads, the audio
recognition hears."""

import base64
import re

from mrblue.engine.protocol.events import ProtocolError, new_id
from mrblue.engine.protocol.fields import choice, get, no_unknown

CONTENT_TYPES = {
    "user": ("input_text", "input_audio"),
    "system": ("input_text",),
    "assistant": ("output_text", "output_audio"),
}
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def client_item(item, param: str = "item") -> dict:
    """Validate an item from `conversation.item.create` and return the stored form."""
    get({"item": item}, "item", dict, param)
    kind = choice(
        get(item, "type", str, f"{param}.type", required=True),
        ("message", "function_call", "function_call_output"),
        f"{param}.type",
    )
    item_id = get(item, "id", str, f"{param}.id", nullable=True)
    if item_id is not None and not _CLIENT_ID.match(item_id):
        raise ProtocolError(
            "invalid_value", "Item ids are 1 to 32 letters, digits, '-' or '_'.", f"{param}.id"
        )
    stored = {
        "id": item_id or new_id("item"),
        "type": kind,
        "object": "realtime.item",
        "status": "completed",
    }
    if kind == "message":
        no_unknown(item, ("id", "type", "object", "status", "role", "content"), param)
        role = choice(
            get(item, "role", str, f"{param}.role", required=True),
            tuple(CONTENT_TYPES),
            f"{param}.role",
        )
        content = get(item, "content", list, f"{param}.content", required=True)
        stored.update(
            role=role,
            content=[
                _content(part, role, f"{param}.content[{i}]") for i, part in enumerate(content)
            ],
        )
    elif kind == "function_call":
        no_unknown(item, ("id", "type", "object", "status", "name", "call_id", "arguments"), param)
        stored.update(
            name=get(item, "name", str, f"{param}.name", required=True),
            call_id=get(item, "call_id", str, f"{param}.call_id", default=None) or new_id("call"),
            arguments=get(item, "arguments", str, f"{param}.arguments", default="{}"),
        )
    else:
        no_unknown(item, ("id", "type", "object", "status", "call_id", "output"), param)
        stored.update(
            call_id=get(item, "call_id", str, f"{param}.call_id", required=True),
            output=get(item, "output", str, f"{param}.output", required=True),
        )
    return stored


def _content(part, role: str, param: str) -> dict:
    get({"part": part}, "part", dict, param)
    kind = choice(
        get(part, "type", str, f"{param}.type", required=True), CONTENT_TYPES[role], f"{param}.type"
    )
    if kind in ("input_text", "output_text"):
        no_unknown(part, ("type", "text"), param)
        return {"type": kind, "text": get(part, "text", str, f"{param}.text", required=True)}
    no_unknown(part, ("type", "audio", "transcript"), param)
    result = {
        "type": kind,
        "transcript": get(part, "transcript", str, f"{param}.transcript", nullable=True),
    }
    audio = get(part, "audio", str, f"{param}.audio", nullable=True)
    if audio is not None:
        result["audio"] = audio
    return result


def item_text(item: dict) -> str:
    """The words of a message item (text, or audio transcripts), joined."""
    words = []
    for part in item.get("content", []):
        words.append(part.get("text") or part.get("transcript") or "")
    return " ".join(word for word in words if word).strip()


def public_item(item: dict) -> dict:
    """An item as events show it: audio payloads left out (they can be megabytes)."""
    if item.get("type") != "message":
        return dict(item)
    content = [{k: v for k, v in part.items() if k != "audio"} for part in item["content"]]
    return {**item, "content": content}


def text_bytes(item: dict) -> int:
    """The size of an item's words and arguments, in characters (what its memory costs)."""
    size = len(item.get("arguments") or "") + len(item.get("output") or "")
    for part in item.get("content") or []:
        size += len(part.get("text") or "") + len(part.get("transcript") or "")
    return size


def item_bytes(item: dict) -> int:
    """The size an item keeps: its words and its base64 audio."""
    audio = sum(len(part.get("audio") or "") for part in item.get("content") or [])
    return text_bytes(item) + audio


def has_audio(item: dict) -> bool:
    """Whether an item still holds an audio payload."""
    return any("audio" in part for part in item.get("content") or [])


def drop_audio(item: dict) -> int:
    """Forget an item's audio payloads (its transcripts stay); the characters freed."""
    freed = 0
    for part in item.get("content") or []:
        freed += len(part.pop("audio", None) or "")
    return freed


def audio_payload(item: dict) -> bytes:
    """The audio bytes of a committed user audio item (as the input format encodes them)."""
    return base64.b64decode(item["content"][0].get("audio") or "")


def user_audio_item(audio: bytes, item_id: str | None = None) -> dict:
    """The user message committed input audio becomes (its words come later)."""
    return {
        "id": item_id or new_id("item"),
        "type": "message",
        "object": "realtime.item",
        "status": "completed",
        "role": "user",
        "content": [
            {"type": "input_audio", "transcript": None, "audio": base64.b64encode(audio).decode()}
        ],
    }
