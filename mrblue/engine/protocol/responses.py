"""One response as it is built: the request the brain answers, its output items, and the
`response.*` events that stream them (message open, text and audio deltas, function calls,
message close, `response.done` with usage)."""

import base64
import copy
from dataclasses import dataclass, field

from mrblue.engine.protocol import usage
from mrblue.engine.protocol.conversation import ConversationItems
from mrblue.engine.protocol.events import new_id, server_event
from mrblue.engine.protocol.items import public_item
from mrblue.engine.protocol.spec import PCM_BYTES_PER_MS

# What a brain is handed for one response, at most: the instructions cut to their limit, and
# the newest items whose text fits in the other. A brain reads every character it gets, and a
# chat server's context is far smaller than what a client may send.
BRAIN_MAX_INSTRUCTIONS = 50_000
BRAIN_MAX_ITEMS = 200
BRAIN_MAX_CHARS = 200_000
_TEXT_FIELDS = ("text", "transcript", "arguments", "output")


def brain_view(items: list[dict], budget: int = BRAIN_MAX_CHARS) -> list[dict]:
    """The items a brain reads, oldest first: copies of the newest `BRAIN_MAX_ITEMS` whose
    text fits in `budget` characters (the oldest one kept is cut to fit; older ones dropped)."""
    view: list[dict] = []
    for item in reversed(items[-BRAIN_MAX_ITEMS:]):
        if budget == 0 and view:
            break
        kept, budget = _cut(public_item(item), budget)
        view.append(kept)
    view.reverse()
    return view


def _cut(item: dict, budget: int) -> tuple[dict, int]:
    """A copy of a public item with its text cut to `budget` characters in all, and the
    characters left."""

    def fit(fields: dict) -> dict:
        nonlocal budget
        fitted = dict(fields)
        for name in _TEXT_FIELDS:
            if isinstance(fitted.get(name), str):
                fitted[name] = fitted[name][:budget]
                budget -= len(fitted[name])
        return fitted

    item = fit(item)
    if "content" in item:
        item["content"] = [fit(part) for part in item["content"]]
    return item, budget


@dataclass
class ResponseRequest:
    """What the brain is asked to answer for one response."""

    response_id: str
    instructions: str
    tools: list
    tool_choice: object
    output_modalities: list
    max_output_tokens: object
    voice: str
    speed: float
    conversation: list  # items, oldest first (copies, audio payloads left out)
    # item id -> rescoring.Scorer of a user audio item heard in this process: how well a
    # sentence fits what was said (mrblue/engine/voice/rescoring.py). Empty for typed text.
    audio: dict = field(default_factory=dict)


class Response:
    """The response in progress: what it has said so far, and the events that said it.

    `config` is the session config with the response's overrides applied; `context` the items
    it answers (the conversation's own list, or the `response.input` items); with
    `audio_on_track` (WebRTC) its audio goes out on the media track instead of as events."""

    def __init__(
        self,
        config: dict,
        context: list,
        conversation: ConversationItems,
        *,
        audio_on_track: bool,
        input_tokens: dict,
    ):
        self.id = new_id("resp")
        self.config = config
        self.conversation = conversation
        self.in_conversation = config.get("conversation") != "none"
        self.context = None if context is conversation.items else context  # None: the conversation
        self.audio_on_track = audio_on_track
        self.input_tokens = input_tokens
        self.output: list[dict] = []
        self.message: dict | None = None  # the assistant message being spoken, if open
        self.text_chars = 0  # of the whole response
        self.audio_bytes = 0

    def request(self) -> ResponseRequest:
        """What the brain is asked (a copy: the brain cannot change the session)."""
        config = self.config
        return ResponseRequest(
            response_id=self.id,
            instructions=(config.get("instructions") or "")[:BRAIN_MAX_INSTRUCTIONS],
            tools=copy.deepcopy(config.get("tools") or []),
            tool_choice=config.get("tool_choice", "auto"),
            output_modalities=list(config["output_modalities"]),
            max_output_tokens=config.get("max_output_tokens", "inf"),
            voice=config["audio"]["output"]["voice"],
            speed=config["audio"]["output"].get("speed", 1.0),
            conversation=self.context_items(),
        )

    def context_items(self) -> list[dict]:
        """The items this response answers, as they are now (transcripts may have arrived),
        as much of them as a brain is handed (`brain_view`)."""
        items = self.conversation.items if self.context is None else self.context
        return brain_view(items)

    def created(self) -> list[dict]:
        """`response.created`."""
        return [server_event("response.created", response=self._object("in_progress"))]

    def add_text(self, text: str) -> list[dict]:
        """Stream text of the assistant's message (its transcript, in audio mode)."""
        if not text or self._message_cut():
            return []
        events = self._open_message()
        assert self.message is not None  # opened just now, or already open
        # The item holds the words as they come, so a cut made before the message closes
        # (a barge-in while the answer is still being synthesized) cuts them for good.
        part = self.message["content"][0]
        key = "transcript" if self._audio_mode() else "text"
        part[key] += text
        self.text_chars += len(text)
        type_ = (
            "response.output_audio_transcript.delta"
            if self._audio_mode()
            else "response.output_text.delta"
        )
        events.append(server_event(type_, delta=text, **self._part_ref()))
        return events

    def add_audio(self, pcm: bytes) -> list[dict]:
        """Stream synthesized audio (24 kHz pcm16) of the assistant's message."""
        if not pcm or not self._audio_mode() or self._message_cut():
            return []
        events = self._open_message()
        assert self.message is not None  # opened just now, or already open
        self.audio_bytes += len(pcm)
        self.conversation.add_audio(self.message["id"], len(pcm) / PCM_BYTES_PER_MS)
        if self.audio_on_track:
            return events  # over WebRTC the audio rides the media track, not events
        events.append(
            server_event(
                "response.output_audio.delta",
                delta=base64.b64encode(pcm).decode(),
                **self._part_ref(),
            )
        )
        return events

    def add_function_call(self, name: str, arguments: str, call_id: str | None) -> list[dict]:
        """Add a complete function call (closing the message before it, if one is open)."""
        events = self._close_message("completed")
        item = {
            "id": new_id("item"),
            "type": "function_call",
            "object": "realtime.item",
            "status": "in_progress",
            "name": name,
            "call_id": call_id or new_id("call"),
            "arguments": "",
        }
        index = len(self.output)
        self.output.append(item)
        events += self._announce(item, index)
        ref = {
            "response_id": self.id,
            "item_id": item["id"],
            "output_index": index,
            "call_id": item["call_id"],
        }
        item.update(arguments=arguments, status="completed")
        events.append(
            server_event("response.function_call_arguments.delta", delta=arguments, **ref)
        )
        events.append(
            server_event(
                "response.function_call_arguments.done", name=name, arguments=arguments, **ref
            )
        )
        events += self._item_events(item, index, "done")
        return events

    def finish(self, status: str, reason=None, error=None, metadata=None) -> list[dict]:
        """Close the open message, then `response.done` with usage (and any engine
        `metadata`, e.g. turn timings, merged into the response's own)."""
        events = self._close_message("completed" if status == "completed" else "incomplete")
        if metadata:
            self.config["metadata"] = {**(self.config.get("metadata") or {}), **metadata}
        response = self._object(status, reason=reason, error=error, with_usage=True)
        events.append(server_event("response.done", response=response))
        return events

    # --- the assistant message ----------------------------------------------------------------

    def _audio_mode(self) -> bool:
        return self.config["output_modalities"] == ["audio"]

    def _part_ref(self) -> dict:
        assert self.message is not None  # only while a message is open
        return {
            "response_id": self.id,
            "item_id": self.message["id"],
            "output_index": len(self.output) - 1,
            "content_index": 0,
        }

    def _message_cut(self) -> bool:
        """Whether the open message was truncated to what was heard: it says no more."""
        return self.message is not None and self.conversation.was_cut(self.message["id"])

    def _open_message(self) -> list[dict]:
        if self.message is not None:
            return []
        audio_mode = self._audio_mode()
        part_type = "output_audio" if audio_mode else "output_text"
        item = {
            "id": new_id("item"),
            "type": "message",
            "object": "realtime.item",
            "status": "in_progress",
            "role": "assistant",
            "content": [
                {"type": part_type, "transcript": ""}
                if audio_mode
                else {"type": part_type, "text": ""}
            ],
        }
        self.message = item
        index = len(self.output)
        self.output.append(item)
        events = self._announce(item, index)
        part = {"type": "audio", "transcript": ""} if audio_mode else {"type": "text", "text": ""}
        events.append(server_event("response.content_part.added", part=part, **self._part_ref()))
        return events

    def _close_message(self, status: str) -> list[dict]:
        item = self.message
        if item is None:
            return []
        ref = self._part_ref()
        events = []
        if self._audio_mode():
            said = item["content"][0]["transcript"]
            events.append(server_event("response.output_audio.done", **ref))
            events.append(
                server_event("response.output_audio_transcript.done", transcript=said, **ref)
            )
            part = {"type": "audio", "transcript": said}
        else:
            said = item["content"][0]["text"]
            events.append(server_event("response.output_text.done", text=said, **ref))
            part = {"type": "text", "text": said}
        events.append(server_event("response.content_part.done", part=part, **ref))
        item["status"] = status
        events += self._item_events(item, ref["output_index"], "done")
        self.message = None
        return events

    # --- output items and the response object -------------------------------------------------

    def _announce(self, item: dict, index: int) -> list[dict]:
        room = self.conversation.append(item) if self.in_conversation else []
        return self._item_events(item, index, "added") + room

    def _item_events(self, item: dict, index: int, phase: str) -> list[dict]:
        """`response.output_item.<phase>`, and `conversation.item.<phase>` if it is kept."""
        events = [
            server_event(
                f"response.output_item.{phase}",
                response_id=self.id,
                output_index=index,
                item=copy.deepcopy(item),
            )
        ]
        kept = self.conversation.announced(phase, item) if self.in_conversation else None
        if kept is not None:
            events.append(kept)
            if phase == "done":  # its words are in: keep the conversation within bounds
                events += self.conversation.grew(item["id"])
        return events

    def _object(self, status, *, reason=None, error=None, with_usage=False) -> dict:
        status_details = None
        if status != "in_progress":
            status_details = {"type": status, "reason": reason, "error": error}
        output_config = self.config["audio"]["output"]
        return {
            "object": "realtime.response",
            "id": self.id,
            "status": status,
            "status_details": status_details,
            "output": [copy.deepcopy(public_item(item)) for item in self.output],
            "conversation_id": self.conversation.id if self.in_conversation else None,
            "output_modalities": list(self.config["output_modalities"]),
            "max_output_tokens": self.config.get("max_output_tokens", "inf"),
            "audio": {
                "output": {"format": dict(output_config["format"]), "voice": output_config["voice"]}
            },
            "usage": self._usage() if with_usage else None,
            "metadata": self.config.get("metadata"),
        }

    def _usage(self) -> dict:
        return usage.usage(self.input_tokens, self.text_chars, self.audio_bytes, self.output)
