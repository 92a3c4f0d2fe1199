"""The Realtime protocol as a state machine: client events in, server events out, no I/O.

One `RealtimeSession` per connection. Every call that changes the session returns a `Step`:
the server events to send, and what the adapter around it must do (start a response with the
brain, stop one, hand audio to voice detection). `receive()` takes a parsed client event; the
adapter feeds the brain's output back through `add_text`, `add_audio`, `add_function_call` and
`finish_response`, and what voice detection hears through `speech_started` and its kin.
"""

import base64
import binascii
import copy
import math
import time
from dataclasses import dataclass, field

from mrblue.engine import config as session_config
from mrblue.engine.events import ProtocolError, error_event, new_id, server_event
from mrblue.engine.fields import choice, get
from mrblue.engine.items import client_item, public_item

MIN_COMMIT_MS = 100
MAX_INPUT_AUDIO_MS = 10 * 60 * 1000
BYTES_PER_MS = {"audio/pcm": 48, "audio/pcmu": 8, "audio/pcma": 8}


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


@dataclass
class Step:
    """The outcome of one call into the session: the one result shape adapters handle."""

    events: list = field(default_factory=list)
    start_response: ResponseRequest | None = None
    cancelled_response: str | None = None
    appended_audio: bytes | None = None
    committed_item: dict | None = None
    clear_output_audio: bool = False
    item_id: str | None = None  # the item a detected speech will become


@dataclass
class _ActiveResponse:
    id: str
    config: dict
    in_conversation: bool
    output: list = field(default_factory=list)
    message: dict | None = None
    text: str = ""  # of the open message
    text_chars: int = 0  # of the whole response
    audio_bytes: int = 0
    input_tokens: dict = field(default_factory=dict)
    context: list | None = None  # `response.input` items; None = the conversation


class RealtimeSession:
    """One realtime session's state: config, conversation, input audio, the active response."""

    def __init__(self, config: dict, *, output_audio_buffer: bool = False):
        self.config = config
        self.conversation_id = new_id("conv")
        self.items: list[dict] = []
        self.input_audio = bytearray()
        self.response: _ActiveResponse | None = None
        self.output_audio_buffer = output_audio_buffer  # WebRTC: the server plays audio out
        self.audio_ms: dict[str, float] = {}  # assistant item id -> audio produced
        self.started_at = time.monotonic()

    # --- client events --------------------------------------------------------------------

    def created(self) -> Step:
        """The first event of every session."""
        return Step(events=[server_event("session.created", session=self.public_config())])

    def public_config(self) -> dict:
        """The session config as `session.created/updated` show it."""
        return session_config.public_session(self.config)

    def receive(self, event) -> Step:
        """Handle one parsed client event; protocol mistakes become one `error` event."""
        client_event_id = event.get("event_id") if isinstance(event, dict) else None
        try:
            if not isinstance(event, dict):
                raise ProtocolError("invalid_type", "A client event must be a JSON object.")
            if client_event_id is not None and not isinstance(client_event_id, str):
                client_event_id = None
                raise ProtocolError(
                    "invalid_type", "Invalid type for 'event_id': expected a string.", "event_id"
                )
            kind = get(event, "type", str, "type", required=True)
            handler = self._handlers().get(kind)
            if handler is None:
                choice(kind, tuple(self._handlers()), "type")
            return handler(event)
        except ProtocolError as error:
            return Step(events=[error.to_event(client_event_id)])

    def _handlers(self):
        return {
            "session.update": self._session_update,
            "input_audio_buffer.append": self._audio_append,
            "input_audio_buffer.commit": self._audio_commit,
            "input_audio_buffer.clear": self._audio_clear,
            "output_audio_buffer.clear": self._output_audio_clear,
            "conversation.item.create": self._item_create,
            "conversation.item.retrieve": self._item_retrieve,
            "conversation.item.delete": self._item_delete,
            "conversation.item.truncate": self._item_truncate,
            "response.create": self._response_create,
            "response.cancel": self._response_cancel,
        }

    def _session_update(self, event) -> Step:
        update = get(event, "session", dict, "session", required=True)
        self.config = session_config.apply_update(self.config, update)
        return Step(events=[server_event("session.updated", session=self.public_config())])

    def _audio_append(self, event) -> Step:
        encoded = get(event, "audio", str, "audio", required=True)
        try:
            audio = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError(
                "invalid_value", "Invalid 'audio': expected base64-encoded audio bytes.", "audio"
            ) from None
        if self._ms(len(self.input_audio) + len(audio)) > MAX_INPUT_AUDIO_MS:
            raise ProtocolError(
                "input_audio_buffer_full",
                "The input audio buffer holds at most 10 minutes; commit or clear it.",
                "audio",
            )
        self.input_audio.extend(audio)
        return Step(appended_audio=audio)

    def _audio_commit(self, event) -> Step:
        buffered_ms = self._ms(len(self.input_audio))
        if buffered_ms < MIN_COMMIT_MS:
            raise ProtocolError(
                "input_audio_buffer_commit_empty",
                f"Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has {buffered_ms:.2f}ms of audio.",
            )
        return self.commit_input_audio()

    def commit_input_audio(self, item_id: str | None = None) -> Step:
        """Turn the buffered audio into a user item (also called by voice detection)."""
        audio = bytes(self.input_audio)
        self.input_audio.clear()
        item = {
            "id": item_id or new_id("item"),
            "type": "message",
            "object": "realtime.item",
            "status": "completed",
            "role": "user",
            "content": [
                {
                    "type": "input_audio",
                    "transcript": None,
                    "audio": base64.b64encode(audio).decode(),
                }
            ],
        }
        previous = self.items[-1]["id"] if self.items else None
        events = [
            server_event(
                "input_audio_buffer.committed", previous_item_id=previous, item_id=item["id"]
            )
        ]
        events += self._insert(item, previous)
        return Step(events=events, committed_item=item)

    def _audio_clear(self, event) -> Step:
        self.input_audio.clear()
        return Step(events=[server_event("input_audio_buffer.cleared")])

    def _output_audio_clear(self, event) -> Step:
        if not self.output_audio_buffer:
            raise ProtocolError(
                "invalid_value",
                "output_audio_buffer.clear is only "
                "supported over WebRTC; over WebSocket stop playback yourself "
                "and send conversation.item.truncate.",
                "type",
            )
        response_id = self.response.id if self.response else None
        return Step(
            clear_output_audio=True,
            events=[server_event("output_audio_buffer.cleared", response_id=response_id or "")],
        )

    def _item_create(self, event) -> Step:
        item = client_item(get(event, "item", dict, "item", required=True))
        if self._find(item["id"]) is not None:
            raise ProtocolError(
                "invalid_value", f"Item with id '{item['id']}' already exists.", "item.id"
            )
        previous = get(event, "previous_item_id", str, "previous_item_id", nullable=True)
        if previous is None:
            previous = self.items[-1]["id"] if self.items else None
        elif previous != "root" and self._find(previous) is None:
            raise ProtocolError(
                "invalid_value",
                f"Previous item with id '{previous}' does not exist.",
                "previous_item_id",
            )
        return Step(
            events=self._insert(
                item, None if previous == "root" else previous, at_start=previous == "root"
            )
        )

    def _item_retrieve(self, event) -> Step:
        item = self._require_item(event)
        return Step(events=[server_event("conversation.item.retrieved", item=copy.deepcopy(item))])

    def _item_delete(self, event) -> Step:
        item = self._require_item(event)
        self.items.remove(item)
        self.audio_ms.pop(item["id"], None)
        return Step(events=[server_event("conversation.item.deleted", item_id=item["id"])])

    def _item_truncate(self, event) -> Step:
        item = self._require_item(event)
        index = get(event, "content_index", int, "content_index", required=True)
        end_ms = get(event, "audio_end_ms", int, "audio_end_ms", required=True)
        content = item.get("content") or []
        if (
            item.get("role") != "assistant"
            or not 0 <= index < len(content)
            or content[index]["type"] != "output_audio"
        ):
            raise ProtocolError(
                "invalid_value",
                "Only the audio content of an assistant message can be truncated.",
                "content_index",
            )
        return Step(events=self._truncate(item, index, end_ms))

    def _truncate(self, item: dict, index: int, end_ms: int) -> list[dict]:
        produced = self.audio_ms.get(item["id"], 0.0)
        if end_ms < 0 or end_ms > produced:
            raise ProtocolError(
                "invalid_value",
                f"Audio content of {produced:.0f}ms is already shorter than {end_ms}ms",
                "audio_end_ms",
            )
        part = item["content"][index]
        # What was heard, approximately: the share of the transcript the audio covered.
        transcript = part.get("transcript") or ""
        keep = round(len(transcript) * end_ms / produced) if produced else 0
        heard = transcript[:keep]
        if keep < len(transcript) and not transcript[keep].isspace():
            heard = heard.rsplit(" ", 1)[0] if " " in heard else ""  # no half-heard word
        part["transcript"] = heard.rstrip()
        self.audio_ms[item["id"]] = float(end_ms)
        return [
            server_event(
                "conversation.item.truncated",
                item_id=item["id"],
                content_index=index,
                audio_end_ms=end_ms,
            )
        ]

    def _response_create(self, event) -> Step:
        if self.response is not None:
            raise ProtocolError(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: {self.response.id}. "
                "Wait until the response is finished before creating a new one.",
            )
        overrides = get(event, "response", dict, "response", nullable=True)
        effective = session_config.apply_response_overrides(self.config, overrides)
        context = self.items
        if "input" in effective:
            context = [
                client_item(item, f"response.input[{i}]")
                for i, item in enumerate(effective["input"])
            ]
        return self.start_response(effective, context)

    def start_response(self, effective: dict | None = None, context: list | None = None) -> Step:
        """Begin a response (also called by voice detection when a turn ends)."""
        effective = effective or session_config.apply_response_overrides(self.config, None)
        context = self.items if context is None else context
        response = _ActiveResponse(
            id=new_id("resp"),
            config=effective,
            in_conversation=effective.get("conversation") != "none",
            context=None if context is self.items else context,
        )
        response.input_tokens = _input_tokens(effective.get("instructions", ""), context, self._ms)
        self.response = response
        request = ResponseRequest(
            response_id=response.id,
            instructions=effective.get("instructions") or "",
            tools=copy.deepcopy(effective.get("tools") or []),
            tool_choice=effective.get("tool_choice", "auto"),
            output_modalities=list(effective["output_modalities"]),
            max_output_tokens=effective.get("max_output_tokens", "inf"),
            voice=effective["audio"]["output"]["voice"],
            speed=effective["audio"]["output"].get("speed", 1.0),
            conversation=[public_item(item) for item in context],
        )
        events = [
            server_event(
                "response.created", response=self._response_object(response, "in_progress")
            )
        ]
        return Step(events=events, start_response=request)

    def _response_cancel(self, event) -> Step:
        wanted = get(event, "response_id", str, "response_id", nullable=True)
        if self.response is None or (wanted and wanted != self.response.id):
            raise ProtocolError(
                "response_cancel_not_active", "Cancellation failed: no active response found"
            )
        return self.cancel_response("client_cancelled")

    def cancel_response(self, reason: str) -> Step:
        """End the active response, if any, as cancelled (`Step.cancelled_response` says
        which, so the adapter stops its brain and playout)."""
        if self.response is None:
            return Step()
        response_id = self.response.id
        step = self.finish_response(response_id, "cancelled", reason=reason)
        step.cancelled_response = response_id
        return step

    # --- response output, fed by the adapter ------------------------------------------------

    def response_context(self, response_id: str) -> list[dict]:
        """The items a response answers, as they are now (transcripts may have arrived since)."""
        response = self._current(response_id)
        items = self.items if response is None or response.context is None else response.context
        return [public_item(item) for item in items]

    def current_message_id(self, response_id: str) -> str | None:
        """The id of the assistant message a response is speaking, if one is open."""
        response = self._current(response_id)
        return response.message["id"] if response and response.message else None

    @property
    def active_response_id(self) -> str | None:
        """The id of the response in progress, if any."""
        return self.response.id if self.response else None

    def _current(self, response_id) -> _ActiveResponse | None:
        return self.response if self.response and self.response.id == response_id else None

    def add_text(self, response_id: str, text: str) -> Step:
        """Stream text of the assistant's message (its transcript, in audio mode)."""
        response = self._current(response_id)
        if response is None or not text:
            return Step()
        events = self._open_message(response)
        response.text += text
        response.text_chars += len(text)
        audio_mode = self._audio_mode(response)
        type_ = (
            "response.output_audio_transcript.delta" if audio_mode else "response.output_text.delta"
        )
        events.append(server_event(type_, delta=text, **self._part_ref(response)))
        return Step(events=events)

    def add_audio(self, response_id: str, pcm: bytes) -> Step:
        """Stream synthesized audio (24 kHz pcm16) of the assistant's message."""
        response = self._current(response_id)
        if response is None or not pcm or not self._audio_mode(response):
            return Step()
        events = self._open_message(response)
        response.audio_bytes += len(pcm)
        item_id = response.message["id"]
        self.audio_ms[item_id] = self.audio_ms.get(item_id, 0.0) + len(pcm) / 48
        if self.output_audio_buffer:
            return Step(events=events)  # over WebRTC the audio rides the media track, not events
        events.append(
            server_event(
                "response.output_audio.delta",
                delta=base64.b64encode(pcm).decode(),
                **self._part_ref(response),
            )
        )
        return Step(events=events)

    def add_function_call(
        self, response_id: str, name: str, arguments: str, call_id: str | None = None
    ) -> Step:
        """Add a complete function call to the response."""
        response = self._current(response_id)
        if response is None:
            return Step()
        events = self._close_message(response, "completed")
        item = {
            "id": new_id("item"),
            "type": "function_call",
            "object": "realtime.item",
            "status": "in_progress",
            "name": name,
            "call_id": call_id or new_id("call"),
            "arguments": "",
        }
        index = len(response.output)
        response.output.append(item)
        events += self._announce(response, item, index)
        ref = {
            "response_id": response.id,
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
        events += self._item_done(response, item, index)
        return Step(events=events)

    def fail_response(
        self, response_id: str, code: str, message: str, *, metadata: dict | None = None
    ) -> Step:
        """End the response as failed (the brain could not answer): a `server_error`."""
        error = {"type": "server_error", "code": code, "message": message}
        return self.finish_response(response_id, "failed", error=error, metadata=metadata)

    def finish_response(
        self,
        response_id: str,
        status: str = "completed",
        *,
        reason: str | None = None,
        error: dict | None = None,
        metadata: dict | None = None,
    ) -> Step:
        """End the response: close its message, then `response.done` with usage (and any
        engine `metadata`, e.g. turn timings, merged into the response's own)."""
        response = self._current(response_id)
        if response is None:
            return Step()
        item_status = "completed" if status == "completed" else "incomplete"
        events = self._close_message(response, item_status)
        self.response = None
        if metadata:
            response.config["metadata"] = {**(response.config.get("metadata") or {}), **metadata}
        events.append(
            server_event(
                "response.done",
                response=self._response_object(
                    response, status, reason=reason, error=error, with_usage=True
                ),
            )
        )
        return Step(events=events)

    # --- voice input, fed by the adapter's turn detection ----------------------------------

    def buffer_audio(self, pcm: bytes) -> None:
        """Add input audio that arrived outside the protocol (the WebRTC microphone track).

        The microphone never stops, and with push-to-talk nothing trims the buffer between
        turns: past the protocol's limit the oldest audio goes."""
        self.input_audio.extend(pcm)
        self.trim_input_audio(MAX_INPUT_AUDIO_MS)

    def trim_input_audio(self, keep_ms: float) -> None:
        """Keep only the last `keep_ms` of buffered audio (the prefix padding before speech)."""
        keep = int(keep_ms * BYTES_PER_MS[self.input_format]) & ~1
        if len(self.input_audio) > keep:
            del self.input_audio[: len(self.input_audio) - keep]

    def speech_started(self, audio_start_ms: int) -> Step:
        """The person started speaking: announce the item their words will become
        (`Step.item_id`, to hand back to `speech_stopped`)."""
        item_id = new_id("item")
        event = server_event(
            "input_audio_buffer.speech_started", audio_start_ms=audio_start_ms, item_id=item_id
        )
        return Step(events=[event], item_id=item_id)

    def speech_stopped(self, audio_end_ms: int, item_id: str) -> Step:
        """The person stopped: announce it and commit their audio as a user item."""
        stopped = server_event(
            "input_audio_buffer.speech_stopped", audio_end_ms=audio_end_ms, item_id=item_id
        )
        step = self.commit_input_audio(item_id)
        step.events.insert(0, stopped)
        return step

    def transcribed(self, item_id: str, text: str, seconds: float, *, respond=False) -> Step:
        """The words of a committed audio item are known: reported if the session asked for
        transcripts; with `respond` (the turn ended by voice detection), answered too."""
        item = self._find(item_id)
        if item is not None:
            item["content"][0]["transcript"] = text
        step = Step()
        if respond and text and self.response is None:
            step = self.start_response()
        if not self.transcription:
            return step
        ref = {"item_id": item_id, "content_index": 0}
        step.events[:0] = [
            server_event("conversation.item.input_audio_transcription.delta", delta=text, **ref),
            server_event(
                "conversation.item.input_audio_transcription.completed",
                transcript=text,
                usage={"type": "duration", "seconds": round(seconds, 3)},
                **ref,
            ),
        ]
        return step

    def transcription_failed(self, item_id: str, message: str) -> Step:
        """The words of a committed audio item could not be recognized (reported if the
        session asked for transcripts)."""
        if not self.transcription:
            return Step()
        error = {
            "type": "server_error",
            "code": "transcription_failed",
            "message": message,
            "param": None,
        }
        return Step(
            events=[
                server_event(
                    "conversation.item.input_audio_transcription.failed",
                    item_id=item_id,
                    content_index=0,
                    error=error,
                )
            ]
        )

    def timeout_triggered(self, audio_start_ms: int, audio_end_ms: int) -> Step:
        """The person stayed silent past `idle_timeout_ms`: say so and prompt them with a
        response (nothing, if a response is already under way)."""
        if self.response is not None:
            return Step()
        timeout = server_event(
            "input_audio_buffer.timeout_triggered",
            audio_start_ms=audio_start_ms,
            audio_end_ms=audio_end_ms,
            item_id=new_id("item"),
        )
        step = self.start_response()
        step.events.insert(0, timeout)
        return step

    def turn_detection(self) -> dict | None:
        """The session's turn-detection settings (None: push-to-talk)."""
        return self.config["audio"]["input"]["turn_detection"]

    @property
    def input_format(self) -> str:
        """The input audio format: `audio/pcm` (24 kHz pcm16), `audio/pcmu` or `audio/pcma`."""
        return self.config["audio"]["input"]["format"]["type"]

    @property
    def transcription(self) -> dict:
        """The input transcription settings ({}: transcripts are not reported)."""
        return self.config["audio"]["input"].get("transcription") or {}

    # --- what the adapter reports: playback, limits, transport errors -----------------------

    def output_playback(self, kind: str, response_id: str) -> Step:
        """The outgoing track `started` or `stopped` playing a response's audio (WebRTC)."""
        return Step(events=[server_event(f"output_audio_buffer.{kind}", response_id=response_id)])

    def output_cleared(self, response_id: str, item_id: str, played_ms: float) -> Step:
        """The adapter dropped the queued output audio (barge-in, or the client asked): say
        so, and cut the assistant item to the audio the person actually heard."""
        events = [server_event("output_audio_buffer.cleared", response_id=response_id)]
        item = self._find(item_id)
        if item is not None and self.audio_ms.get(item_id, 0.0) > played_ms:
            events += self._truncate(item, 0, int(played_ms))
        return Step(events=events)

    def error(self, code: str, message: str) -> Step:
        """A client mistake the adapter found (a message too large, not JSON, refused)."""
        return Step(events=[error_event("invalid_request_error", code, message)])

    def expired(self, max_seconds: float) -> Step:
        """The session reached its maximum duration (the adapter then closes it)."""
        limit = (
            f"{round(max_seconds / 60)} minutes"
            if max_seconds >= 60
            else f"{max_seconds:g} seconds"
        )
        return self.error("session_expired", f"Your session hit the maximum duration of {limit}.")

    @staticmethod
    def refusal(code: str, message: str) -> Step:
        """Why a connection is refused before any session starts (bad key, no room)."""
        return Step(events=[error_event("invalid_request_error", code, message)])

    # --- helpers ----------------------------------------------------------------------------

    def _audio_mode(self, response) -> bool:
        return response.config["output_modalities"] == ["audio"]

    def _part_ref(self, response) -> dict:
        return {
            "response_id": response.id,
            "item_id": response.message["id"],
            "output_index": len(response.output) - 1,
            "content_index": 0,
        }

    def _open_message(self, response) -> list[dict]:
        if response.message is not None:
            return []
        audio_mode = self._audio_mode(response)
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
        response.message = item
        response.text = ""
        index = len(response.output)
        response.output.append(item)
        events = self._announce(response, item, index)
        part = {"type": "audio", "transcript": ""} if audio_mode else {"type": "text", "text": ""}
        events.append(
            server_event("response.content_part.added", part=part, **self._part_ref(response))
        )
        return events

    def _close_message(self, response, status: str) -> list[dict]:
        item = response.message
        if item is None:
            return []
        ref = self._part_ref(response)
        events = []
        if self._audio_mode(response):
            item["content"][0]["transcript"] = response.text
            events.append(server_event("response.output_audio.done", **ref))
            events.append(
                server_event(
                    "response.output_audio_transcript.done", transcript=response.text, **ref
                )
            )
            part = {"type": "audio", "transcript": response.text}
        else:
            item["content"][0]["text"] = response.text
            events.append(server_event("response.output_text.done", text=response.text, **ref))
            part = {"type": "text", "text": response.text}
        events.append(server_event("response.content_part.done", part=part, **ref))
        item["status"] = status
        events += self._item_done(response, item, ref["output_index"])
        response.message = None
        return events

    def _announce(self, response, item: dict, index: int) -> list[dict]:
        if response.in_conversation:
            self.items.append(item)
        return self._item_events(response, item, index, "added")

    def _item_done(self, response, item: dict, index: int) -> list[dict]:
        return self._item_events(response, item, index, "done")

    def _item_events(self, response, item: dict, index: int, phase: str) -> list[dict]:
        """`response.output_item.<phase>`, and `conversation.item.<phase>` if it is kept."""
        shown = copy.deepcopy(item)
        events = [
            server_event(
                f"response.output_item.{phase}",
                response_id=response.id,
                output_index=index,
                item=shown,
            )
        ]
        if response.in_conversation and item in self.items:
            position = self.items.index(item)
            previous = self.items[position - 1]["id"] if position > 0 else None
            events.append(
                server_event(
                    f"conversation.item.{phase}",
                    previous_item_id=previous,
                    item=copy.deepcopy(item),
                )
            )
        return events

    def _insert(self, item: dict, previous_id: str | None, at_start: bool = False) -> list:
        if at_start:
            position = 0
        elif previous_id is None:
            position = len(self.items)
        else:
            position = self.items.index(self._find(previous_id)) + 1
        self.items.insert(position, item)
        previous = self.items[position - 1]["id"] if position > 0 else None
        shown = public_item(item)
        return [
            server_event("conversation.item.added", previous_item_id=previous, item=shown),
            server_event("conversation.item.done", previous_item_id=previous, item=shown),
        ]

    def _find(self, item_id) -> dict | None:
        return next((item for item in self.items if item["id"] == item_id), None)

    def _require_item(self, event) -> dict:
        item_id = get(event, "item_id", str, "item_id", required=True)
        item = self._find(item_id)
        if item is None:
            raise ProtocolError(
                "invalid_value", f"Item with item_id '{item_id}' not found.", "item_id"
            )
        return item

    def _ms(self, n_bytes: int) -> float:
        return n_bytes / BYTES_PER_MS[self.input_format]

    def _response_object(
        self, response, status, *, reason=None, error=None, with_usage=False
    ) -> dict:
        status_details = None
        if status != "in_progress":
            status_details = {"type": status, "reason": reason, "error": error}
        output_config = response.config["audio"]["output"]
        return {
            "object": "realtime.response",
            "id": response.id,
            "status": status,
            "status_details": status_details,
            "output": [copy.deepcopy(public_item(item)) for item in response.output],
            "conversation_id": self.conversation_id if response.in_conversation else None,
            "output_modalities": list(response.config["output_modalities"]),
            "max_output_tokens": response.config.get("max_output_tokens", "inf"),
            "audio": {
                "output": {"format": dict(output_config["format"]), "voice": output_config["voice"]}
            },
            "usage": _usage(response) if with_usage else None,
            "metadata": response.config.get("metadata"),
        }


def _text_tokens(text: str) -> int:
    """An estimate: about four characters a token, as for English with OpenAI's tokenizers."""
    return math.ceil(len(text) / 4)


def _input_tokens(instructions: str, items: list, ms_of) -> dict:
    text = _text_tokens(instructions)
    audio = 0
    for item in items:
        for part in item.get("content") or []:
            if part.get("type") == "input_audio" and part.get("audio"):
                audio += math.ceil(ms_of(len(part["audio"]) * 3 // 4) / 100)
            else:
                text += _text_tokens(part.get("text") or part.get("transcript") or "")
        text += _text_tokens(item.get("arguments", "") + item.get("output", ""))
    return {"text_tokens": text, "audio_tokens": audio}


def _usage(response: _ActiveResponse) -> dict:
    """Estimated usage in OpenAI's shape (input audio ~10 tokens/s, output audio ~20/s)."""
    text_out = math.ceil(response.text_chars / 4) + sum(
        _text_tokens(item.get("arguments", "")) for item in response.output
    )
    audio_out = math.ceil(response.audio_bytes / 48 / 50)
    inputs = response.input_tokens
    input_total = inputs["text_tokens"] + inputs["audio_tokens"]
    return {
        "total_tokens": input_total + text_out + audio_out,
        "input_tokens": input_total,
        "output_tokens": text_out + audio_out,
        "input_token_details": {
            **inputs,
            "image_tokens": 0,
            "cached_tokens": 0,
            "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
    }
