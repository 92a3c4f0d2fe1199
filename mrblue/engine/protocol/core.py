"""The Realtime protocol as a state machine: client events in, server events out, no I/O.

One `RealtimeSession` per connection, the one entry point of the adapters (WebSocket, WebRTC).
Every call that changes the session returns a `Step`: the server events to send, and what the
adapter around it must do (start a response with the brain, stop one, hand audio to voice
detection). `receive()` takes a parsed client event; the adapter feeds the brain's output back
through `add_text`, `add_audio`, `add_function_call` and `finish_response`, what voice detection
hears through `speech_started` and its kin, and what the transport notices (playback, errors,
the time limit) through the methods at the end. The work is shared with `conversation`
(the items), `input_audio` (the input buffer's rules), `responses` (the response being built)
and `usage` (token estimates).
"""

import base64
import binascii
from collections.abc import Callable

from mrblue.engine.protocol import session_config, usage
from mrblue.engine.protocol.conversation import ConversationItems, MemoryLimits
from mrblue.engine.protocol.events import ProtocolError, error_event, new_id, server_event
from mrblue.engine.protocol.fields import choice, get
from mrblue.engine.protocol.input_audio import InputAudio
from mrblue.engine.protocol.items import client_item, user_audio_item
from mrblue.engine.protocol.responses import Response, ResponseRequest, brain_view
from mrblue.engine.protocol.spec import BYTES_PER_MS
from mrblue.engine.protocol.step import Step

SERVER_ERROR = "The server had an error while processing your request; the session goes on."

__all__ = ["RealtimeSession", "ResponseRequest", "Step"]


class RealtimeSession:
    """One realtime session's state: config, conversation, input audio, the active response."""

    def __init__(
        self,
        config: dict,
        *,
        output_audio_buffer: bool = False,
        limits: MemoryLimits | None = None,
    ):
        self.config = config
        self.conversation = ConversationItems(limits)  # bounded: see `MemoryLimits`
        self.input_audio = InputAudio()
        self.response: Response | None = None
        self.output_audio_buffer = output_audio_buffer  # WebRTC: the server plays audio out

    @property
    def items(self) -> list[dict]:
        """The conversation's items, oldest first."""
        return self.conversation.items

    # --- client events --------------------------------------------------------------------

    def created(self) -> Step:
        """The first event of every session."""
        return Step(events=[server_event("session.created", session=self.public_config())])

    def public_config(self) -> dict:
        """The session config as `session.created/updated` show it."""
        return session_config.public_session(self.config)

    def receive(self, event: object) -> Step:
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
            assert handler is not None  # `choice` raised for any other type
            return handler(event)
        except ProtocolError as error:
            return Step(events=[error.to_event(client_event_id)])

    def _handlers(self) -> dict[str, Callable[[dict], Step]]:
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

    def _session_update(self, event: dict) -> Step:
        update = get(event, "session", dict, "session", required=True)
        self.config = session_config.apply_update(self.config, update)
        return Step(events=[server_event("session.updated", session=self.public_config())])

    def _audio_append(self, event: dict) -> Step:
        encoded = get(event, "audio", str, "audio", required=True)
        try:
            audio = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError(
                "invalid_value", "Invalid 'audio': expected base64-encoded audio bytes.", "audio"
            ) from None
        limit_seconds = self.conversation.limits.input_audio_seconds
        self.input_audio.append_checked(audio, self.input_format, limit_seconds)
        return Step(appended_audio=audio)

    def _audio_commit(self, event: dict) -> Step:
        self.input_audio.check_commit(self.input_format)
        step = self.commit_input_audio()
        step.input_audio_reset = True
        return step

    def commit_input_audio(self, item_id: str | None = None) -> Step:
        """Turn the buffered audio into a user item (also called by voice detection)."""
        item = user_audio_item(self.input_audio.take(), item_id)
        # Recognition gets the audio even if the conversation cannot keep it.
        committed = {**item, "content": [dict(part) for part in item["content"]]}
        previous = self.conversation.last_id()
        events = [
            server_event(
                "input_audio_buffer.committed", previous_item_id=previous, item_id=item["id"]
            )
        ]
        events += self.conversation.insert(item, previous)
        return Step(events=events, committed_item=committed)

    def _audio_clear(self, event: dict) -> Step:
        self.input_audio.clear()
        return Step(events=[server_event("input_audio_buffer.cleared")], input_audio_reset=True)

    def _output_audio_clear(self, event: dict) -> Step:
        if not self.output_audio_buffer:
            raise ProtocolError(
                "invalid_value",
                "output_audio_buffer.clear is only "
                "supported over WebRTC; over WebSocket stop playback yourself "
                "and send conversation.item.truncate.",
                "type",
            )
        # The adapter clears its playout and answers through `output_cleared`, once: it
        # alone knows what was heard, so the truncation and the answer come together.
        return Step(clear_output_audio=True)

    def _item_create(self, event: dict) -> Step:
        item = client_item(get(event, "item", dict, "item", required=True))
        previous = get(event, "previous_item_id", str, "previous_item_id", nullable=True)
        return Step(events=self.conversation.create(item, previous))

    def _item_retrieve(self, event: dict) -> Step:
        return Step(events=self.conversation.retrieve(self._item_id(event)))

    def _item_delete(self, event: dict) -> Step:
        return Step(events=self.conversation.delete(self._item_id(event)))

    def _item_truncate(self, event: dict) -> Step:
        item_id = self._item_id(event)
        index = get(event, "content_index", int, "content_index", required=True)
        end_ms = get(event, "audio_end_ms", int, "audio_end_ms", required=True)
        return Step(events=self.conversation.truncate(item_id, index, end_ms))

    def _item_id(self, event: dict) -> str:
        item_id = get(event, "item_id", str, "item_id", required=True)
        self.conversation.require(item_id)  # a missing item is refused before other fields
        return item_id

    def _response_create(self, event: dict) -> Step:
        if self.response is not None:
            raise ProtocolError(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: {self.response.id}. "
                "Wait until the response is finished before creating a new one.",
            )
        overrides = get(event, "response", dict, "response", nullable=True)
        effective = session_config.apply_response_overrides(self.config, overrides)
        context = self.conversation.items
        if "input" in effective:
            context = [
                client_item(item, f"response.input[{i}]")
                for i, item in enumerate(effective["input"])
            ]
        return self.start_response(effective, context)

    def start_response(self, effective: dict | None = None, context: list | None = None) -> Step:
        """Begin a response (also called by voice detection when a turn ends)."""
        effective = effective or session_config.apply_response_overrides(self.config, None)
        context = self.conversation.items if context is None else context
        self.response = Response(
            effective,
            context,
            self.conversation,
            audio_on_track=self.output_audio_buffer,
            input_tokens=usage.input_tokens(effective.get("instructions", ""), context, self._ms),
        )
        return Step(events=self.response.created(), start_response=self.response.request())

    def _response_cancel(self, event: dict) -> Step:
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
        if response is None:
            return brain_view(self.conversation.items)
        return response.context_items()

    def current_message_id(self, response_id: str) -> str | None:
        """The id of the assistant message a response is speaking, if one is open."""
        response = self._current(response_id)
        return response.message["id"] if response and response.message else None

    @property
    def active_response_id(self) -> str | None:
        """The id of the response in progress, if any."""
        return self.response.id if self.response else None

    def _current(self, response_id: str) -> Response | None:
        return self.response if self.response and self.response.id == response_id else None

    def add_text(self, response_id: str, text: str) -> Step:
        """Stream text of the assistant's message (its transcript, in audio mode)."""
        response = self._current(response_id)
        return Step(events=response.add_text(text)) if response else Step()

    def add_audio(self, response_id: str, pcm: bytes) -> Step:
        """Stream synthesized audio (24 kHz pcm16) of the assistant's message."""
        response = self._current(response_id)
        return Step(events=response.add_audio(pcm)) if response else Step()

    def clause_started(self, response_id: str, clause: str) -> Step:
        """A clause of the response's words goes to synthesis: its audio is lined up with
        the transcript (what a barge-in cuts it back to). Nothing to send."""
        item_id = self.current_message_id(response_id)
        if item_id is not None:
            self.conversation.clause_started(item_id, clause)
        return Step()

    def clause_spoken(self, response_id: str) -> Step:
        """The clause's audio is all produced. Nothing to send."""
        item_id = self.current_message_id(response_id)
        if item_id is not None:
            self.conversation.clause_spoken(item_id)
        return Step()

    def add_function_call(
        self, response_id: str, name: str, arguments: str, call_id: str | None = None
    ) -> Step:
        """Add a complete function call to the response."""
        response = self._current(response_id)
        if response is None:
            return Step()
        return Step(events=response.add_function_call(name, arguments, call_id))

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
        self.response = None
        return Step(events=response.finish(status, reason, error, metadata))

    # --- voice input, fed by the adapter's turn detection ----------------------------------

    def buffer_audio(self, pcm: bytes) -> Step:
        """Add input audio that arrived outside the protocol (the WebRTC microphone track).

        The microphone never stops, and with push-to-talk nothing trims the buffer between
        turns: past the protocol's limit the oldest audio goes. Nothing to send."""
        self.input_audio.extend(pcm)
        limit_ms = self.conversation.limits.input_audio_seconds * 1000
        self.input_audio.keep_last(limit_ms, self.input_format)
        return Step()

    def trim_input_audio(self, keep_ms: float) -> Step:
        """Keep only the last `keep_ms` of buffered audio (the prefix padding before speech,
        while no one speaks). Nothing to send."""
        self.input_audio.keep_last(keep_ms, self.input_format)
        return Step()

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

    def partial_transcript(self, item_id: str, delta: str) -> Step:
        """Words of an utterance still being spoken (or not yet final): a transcription delta,
        if the session asked for transcripts."""
        if not self.transcription or not delta:
            return Step()
        return Step(events=[self.conversation.transcription_delta(item_id, delta)])

    def transcribed(
        self,
        item_id: str,
        text: str,
        seconds: float,
        *,
        respond: bool = False,
        delta: str | None = None,
    ) -> Step:
        """The words of a committed audio item are known: reported if the session asked for
        transcripts; with `respond` (the turn ended by voice detection), answered too. `delta`
        is what the last transcription delta adds to the partial words sent (default: all)."""
        events = self.conversation.transcribed(item_id, text, seconds, delta)
        step = Step()
        if respond and text and self.response is None:
            step = self.start_response()
        step.events[:0] = self.conversation.grew(item_id)
        if self.transcription:  # the protocol reports transcripts only when asked to
            step.events[:0] = events
        return step

    def transcription_failed(self, item_id: str, message: str) -> Step:
        """The words of a committed audio item could not be recognized (reported if the
        session asked for transcripts)."""
        if not self.transcription:
            return Step()
        return Step(events=self.conversation.transcription_failed(item_id, message))

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

    def output_cleared(
        self, response_id: str | None = None, item_id: str | None = None, played_ms: float = 0.0
    ) -> Step:
        """The adapter dropped the queued output audio (barge-in, or the client asked): say
        so, and cut the assistant item being heard (if any) to the audio actually heard."""
        response_id = response_id or self.active_response_id or ""
        events = [server_event("output_audio_buffer.cleared", response_id=response_id)]
        if item_id is not None:
            events += self.conversation.cut_to_heard(item_id, played_ms)
        return Step(events=events)

    def error(self, code: str, message: str) -> Step:
        """A client mistake the adapter found (a message too large, not JSON, refused)."""
        return Step(events=[error_event("invalid_request_error", code, message)])

    def ended_by_server(self, code: str, message: str) -> Step:
        """The server ends the session (a worker shutting down); the adapter then closes it."""
        return Step(events=[error_event("server_error", code, message)])

    def server_error(self) -> Step:
        """The engine failed at something it should have done (a bug): OpenAI's answer to
        that, a `server_error`; the session goes on."""
        return Step(events=[error_event("server_error", "server_error", SERVER_ERROR)])

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

    def _ms(self, n_bytes: int) -> float:
        return n_bytes / BYTES_PER_MS[self.input_format]
