"""The async adapter around one protocol core: parse, dispatch, run the brain, speak, send.

Transports (the WebSocket consumer, the WebRTC call) give it a `send` coroutine for server
events and a `close` coroutine, and pass it each text message they receive; WebRTC also gives
it a `PlayoutQueue` (the outgoing audio track) and the microphone's frames.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine

from mrblue.engine.brains import Brain, BrainError, Decision, FunctionCall, TextDelta
from mrblue.engine.engine_settings import engine_settings
from mrblue.engine.protocol.core import RealtimeSession, ResponseRequest, Step
from mrblue.engine.protocol.spec import PROTOCOL_RATE
from mrblue.engine.transports.speaker import Speaker
from mrblue.engine.voice.playout import PlayoutQueue
from mrblue.engine.voice.services import SpeechServices, local_services
from mrblue.engine.voice.turns import VoiceTurns
from mrblue.shared.json_input import parse_json

logger = logging.getLogger("mrblue.engine")
WS_AUDIO_CHUNK = PROTOCOL_RATE * 2 // 10  # 100 ms of pcm16 per output_audio.delta

# What a transport hands the connection: a coroutine that sends one server event (or keeps it
# until its channel opens), and one that closes the transport (idempotent).
SendEvent = Callable[[dict], Awaitable[None]]
CloseTransport = Callable[[], Awaitable[None]]


LOG_DEPTH = 20  # nesting shown in a log line; deeper values are "…"


def loggable(event: object) -> object:
    """A copy of an event fit for a log line: audio payloads replaced by their size, and
    nesting beyond `LOG_DEPTH` by "…" (a client may nest its JSON hundreds deep)."""

    def strip(value: object, depth: int) -> object:
        if not isinstance(value, dict | list):
            return value
        if depth >= LOG_DEPTH:
            return "…"
        if isinstance(value, list):
            return [strip(v, depth + 1) for v in value]
        return {
            k: (
                f"<{len(v)} base64 chars>"
                if k in ("audio", "delta") and isinstance(v, str) and len(v) > 200
                else strip(v, depth + 1)
            )
            for k, v in value.items()
        }

    return strip(event, 0)


class EngineConnection:
    """Drives one `RealtimeSession` with a brain for one client connection."""

    def __init__(
        self,
        session: RealtimeSession,
        brain: Brain,
        send: SendEvent,
        close: CloseTransport,
        *,
        max_message_bytes: int,
        max_seconds: float,
        label: str = "",
        playout: PlayoutQueue | None = None,
        speech: SpeechServices | None = None,
    ):
        self.session = session
        self.brain = brain
        self._send = send
        self._close = close
        self.max_message_bytes = max_message_bytes
        self.max_seconds = max_seconds
        self.label = label
        self.playout = playout  # WebRTC's outgoing audio queue; None over WebSocket
        self.speech = speech or local_services()
        self.voice = VoiceTurns(self)
        self.decision: dict | None = None  # the brain's account of the response it answers
        self._response_task: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()
        self._expiry: asyncio.TimerHandle | None = None
        self.closed = False

    async def start(self) -> None:
        """Announce the session, arm its time limit (if the transport has not already), and
        have the speech models ready before the person has finished their first sentence."""
        self.speech.warm_up()
        self.arm_time_limit()
        await self.carry_out(self.session.created())

    def arm_time_limit(self) -> None:
        """Start the session's clock (once): a transport whose session begins before it can
        be announced (a WebRTC call, before its data channel opens) calls this first."""
        if self._expiry is None:
            loop = asyncio.get_running_loop()
            self._expiry = loop.call_later(
                self.max_seconds, lambda: self.background(self._expire(), "the time limit")
            )

    async def microphone_frame(self, frame: object) -> None:
        """A decoded frame of the WebRTC microphone track, for the voice path."""
        await self.voice.microphone_frame(frame)

    async def carry_out(self, step: Step) -> None:
        """Do what a step of the core says: stop or start a response, send its events."""
        if step.cancelled_response:
            self._stop_response_task()
            if self.playout is not None:
                self.playout.finish(step.cancelled_response)
        if step.start_response is not None:
            self.voice.cancel_idle_timer()
        await self.send_events(step.events)
        if step.start_response is not None:
            self.run_response(step.start_response)

    async def report_error(self, code: str, message: str) -> None:
        """Tell the client about a mistake the transport found; the session goes on."""
        await self.carry_out(self.session.error(code, message))

    async def send_events(self, events: list[dict]) -> None:
        """Send server events in order (logged at debug level, without audio)."""
        for event in events:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s -> %s", self.label, json.dumps(loggable(event)))
            if not self.closed:
                await self._send(event)

    async def receive_text(self, text: str) -> None:
        """Handle one client message: any problem becomes an `error` event, never a crash
        (a bug found on the way is logged and answered with a `server_error`)."""
        try:
            await self._receive_text(text)
        except Exception:
            await self.internal_error("a client event")

    async def internal_error(self, what: str) -> None:
        """Something the engine did for `what` raised: log it once with its traceback (the
        event itself stays out of the log: it may carry anything) and tell the client with a
        `server_error`; the session goes on."""
        logger.exception("%s: handling %s failed", self.label, what)
        try:
            await self.carry_out(self.session.server_error())
        except Exception:
            logger.warning("%s: could not report the failure to the client", self.label)

    def background(self, coroutine: Coroutine[object, object, None], what: str) -> asyncio.Task:
        """Run `coroutine` as a task whose failure is handled as `internal_error` says, not
        left for asyncio to report (or not) when the task is collected."""

        async def guarded() -> None:
            try:
                await coroutine
            except Exception:
                await self.internal_error(what)

        task = asyncio.ensure_future(guarded())
        # A task cancelled before its first step (a response cancelled as it was created) never
        # awaited `coroutine`: close it, or Python 3.13 warns that it was never awaited.
        task.add_done_callback(lambda _: coroutine.close())
        self._background.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self._background.discard)
        return task

    async def _receive_text(self, text: str) -> None:
        if len(text.encode()) > self.max_message_bytes:
            await self.report_error(
                "message_too_large", f"Client events are limited to {self.max_message_bytes} bytes."
            )
            return
        try:
            event = parse_json(text, strict_text=True)
        except ValueError:
            await self.report_error("invalid_json", "The client event is not valid JSON.")
            return
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s <- %s", self.label, json.dumps(loggable(event)))
        await self.handle_event(event)

    async def handle_event(self, event: object) -> None:
        """Pass one parsed client event to the core and carry out its step."""
        step = self.session.receive(event)
        if step.clear_output_audio:
            await self.voice.clear_playout(asked=True)
        if step.input_audio_reset:
            self.voice.input_reset()
        await self.carry_out(step)
        if step.appended_audio:
            await self.voice.audio_appended(step.appended_audio)
        if step.committed_item is not None:
            self.voice.transcribe_later(step.committed_item, respond=False)

    # --- responses ----------------------------------------------------------------------------

    def run_response(self, request: ResponseRequest) -> None:
        """Answer `request` in the background."""
        self._response_task = self.background(self._answer(request), "a response")

    async def _answer(self, request: ResponseRequest) -> None:
        try:
            await self._run_response(request)
        except Exception:
            # An engine bug, not the brain's failure: the response still ends (or no other
            # could start), before `background` logs and reports the bug.
            with contextlib.suppress(Exception):
                await self.carry_out(
                    self.session.fail_response(
                        request.response_id, "server_error", "The server failed to answer."
                    )
                )
            raise

    async def _run_response(self, request: ResponseRequest) -> None:
        response_id = request.response_id
        await self.voice.transcriptions_done()  # the brain reads words, not audio
        request.conversation = self.session.response_context(response_id)
        audio = request.output_modalities == ["audio"] and self.speech.can_speak()
        failure = None  # (code, message)
        voice = Speaker(self, request) if audio else None
        try:
            await self._consume_brain(request, voice)
        except asyncio.CancelledError:
            raise
        except BrainError as exc:
            logger.warning("%s: brain failed: %s (%s)", self.label, exc.message, exc.code)
            failure = (exc.code, exc.message)
        except Exception:
            logger.exception("%s: brain crashed", self.label)
            failure = ("brain_error", "The assistant failed to answer.")
        finally:
            if voice is not None:
                voice.stop()
        if self.playout is not None:
            self.playout.finish(response_id)
        metadata = self.voice.timer.metadata()
        if self.decision is not None:
            metadata["mrblue_decision"] = json.dumps(self.decision)
        if failure:
            await self.carry_out(
                self.session.fail_response(response_id, *failure, metadata=metadata)
            )
        else:
            await self.carry_out(self.session.finish_response(response_id, metadata=metadata))
        if self.playout is None:
            self.voice.timer.log(self.label)
            self.voice.arm_idle_timer()  # over WebRTC: once the audio has been heard

    async def _consume_brain(self, request: ResponseRequest, voice: "Speaker | None") -> None:
        """Send what the brain says as it comes; words to speak go to `voice`, which speaks
        them while the brain goes on (its text is not held back by synthesis)."""
        response_id = request.response_id
        timer = self.voice.timer
        request.audio = dict(self.voice.scorers)  # the brain may rescore what it heard
        self.decision = None
        async for output in self.brain.respond(request):
            if isinstance(output, Decision):
                self.decision = output.record  # reported in response.done's metadata
                continue
            timer.mark("first_output")
            if isinstance(output, TextDelta):
                await self.carry_out(self.session.add_text(response_id, output.text))
                if voice is not None:
                    await voice.say(output.text)
            elif isinstance(output, FunctionCall):
                if voice is not None:
                    await voice.flush()  # "Sure, making the heading blue." is heard first
                await self.carry_out(
                    self.session.add_function_call(
                        response_id, output.name, output.arguments, output.call_id
                    )
                )
        if voice is not None:
            await voice.finish()

    async def speak(self, request: ResponseRequest, text: str) -> None:
        """Synthesize one piece of the answer and send it out (track or events), streamed
        piece by piece unless `MRBLUE_TTS_STREAMING` is off."""
        self.session.clause_started(request.response_id, text)
        if engine_settings.TTS_STREAMING:
            pieces = self.speech.synthesize_stream(text, request.voice, request.speed, self)
            async for pcm in pieces:
                if not await self._send_audio(request.response_id, pcm):
                    return
        else:
            pcm = await self.speech.synthesize(text, request.voice, request.speed, self)
            if not await self._send_audio(request.response_id, pcm):
                return
        self.session.clause_spoken(request.response_id)

    async def _send_audio(self, response_id: str, pcm: bytes) -> bool:
        """Hand synthesized audio to the track or the client; False if the response ended."""
        if self.session.active_response_id != response_id:
            return False  # cancelled while synthesizing
        self.voice.timer.mark("first_audio")
        if self.playout is not None:
            await self.carry_out(self.session.add_audio(response_id, pcm))  # bookkeeping
            # The message holding this audio, read after `add_audio`: a function call may
            # have closed the one its words were in, and `add_audio` then opened another.
            item_id = self.session.current_message_id(response_id)
            if item_id is not None:  # (always, in audio mode: `add_audio` leaves one open)
                self.playout.push(response_id, item_id, pcm)
            return True
        for start in range(0, len(pcm), WS_AUDIO_CHUNK):
            await self.carry_out(
                self.session.add_audio(response_id, pcm[start : start + WS_AUDIO_CHUNK])
            )
        return True

    async def cancel_response(self, reason: str) -> None:
        """Stop the active response, if any (barge-in)."""
        await self.carry_out(self.session.cancel_response(reason))

    def _stop_response_task(self) -> None:
        if self._response_task is not None and not self._response_task.done():
            self._response_task.cancel()
        self._response_task = None

    # --- WebRTC playback notes ------------------------------------------------------------

    def playback_note(self, note: tuple[str, str]) -> None:
        """The outgoing track started or stopped playing a response's audio."""
        kind, response_id = note
        if kind == "started":
            self.voice.timer.mark("first_frame")
            self.voice.timer.log(self.label)
        else:
            self.voice.arm_idle_timer()
        self.background(
            self.carry_out(self.session.output_playback(kind, response_id)), "a playback note"
        )

    # --- life cycle -----------------------------------------------------------------------

    async def _expire(self) -> None:
        if self.closed:
            return
        await self.carry_out(self.session.expired(self.max_seconds))
        await self._close()

    async def end(self, code: str, message: str) -> None:
        """End the session from the server's side: say why in an `error` event, then close."""
        if self.closed:
            return
        await self.carry_out(self.session.ended_by_server(code, message))
        await self._close()

    async def shutdown(self) -> None:
        """Stop everything this connection runs (the transport is closing)."""
        self.closed = True
        if self._expiry is not None:
            self._expiry.cancel()
        self._stop_response_task()
        self.voice.shutdown()
