"""The async adapter around one protocol core: parse, dispatch, run the brain, send.

Transports (the WebSocket consumer, later the WebRTC data channel) give it a `send` coroutine
for server events and a `close` coroutine, and pass it each text message they receive.
"""

import asyncio
import json
import logging

from mrblue.engine.brains import BrainError, FunctionCall, TextDelta
from mrblue.engine.core import RealtimeSession
from mrblue.engine.events import ProtocolError, error_event

logger = logging.getLogger("mrblue.engine")


def loggable(event: dict) -> dict:
    """A copy of an event fit for a log line: audio payloads replaced by their size."""

    def strip(value):
        if isinstance(value, dict):
            return {
                k: (
                    f"<{len(v)} base64 chars>"
                    if k in ("audio", "delta") and isinstance(v, str) and len(v) > 200
                    else strip(v)
                )
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(event)


class EngineConnection:
    """Drives one `RealtimeSession` with a brain for one client connection."""

    def __init__(
        self,
        session: RealtimeSession,
        brain,
        send,
        close,
        *,
        max_message_bytes: int,
        max_seconds: float,
        label: str = "",
    ):
        self.session = session
        self.brain = brain
        self._send = send
        self._close = close
        self.max_message_bytes = max_message_bytes
        self.max_seconds = max_seconds
        self.label = label
        self._response_task: asyncio.Task | None = None
        self._expiry: asyncio.TimerHandle | None = None
        self.closed = False

    async def start(self) -> None:
        """Announce the session and arm its time limit."""
        loop = asyncio.get_running_loop()
        self._expiry = loop.call_later(
            self.max_seconds, lambda: asyncio.ensure_future(self._expire())
        )
        await self.send_events(self.session.created())

    async def send_events(self, events: list[dict]) -> None:
        """Send server events in order (logged at debug level, without audio)."""
        for event in events:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s -> %s", self.label, json.dumps(loggable(event)))
            await self._send(event)

    async def receive_text(self, text: str) -> None:
        """Handle one client message: any problem becomes an `error` event, never a crash."""
        if len(text.encode()) > self.max_message_bytes:
            await self.send_events(
                [
                    error_event(
                        "invalid_request_error",
                        "message_too_large",
                        f"Client events are limited to {self.max_message_bytes} bytes.",
                    )
                ]
            )
            return
        try:
            event = json.loads(text)
        except ValueError:
            await self.send_events(
                [ProtocolError("invalid_json", "The client event is not valid JSON.").to_event()]
            )
            return
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s <- %s", self.label, json.dumps(loggable(event)))
        await self.handle_event(event)

    async def handle_event(self, event) -> None:
        """Pass one parsed client event to the core and carry out its step."""
        step = self.session.receive(event)
        if step.cancelled_response:
            self._stop_response_task()
        await self.send_events(step.events)
        if step.start_response is not None:
            self._response_task = asyncio.create_task(self._run_response(step.start_response))

    async def _run_response(self, request) -> None:
        response_id = request.response_id
        status, error = "completed", None
        try:
            async for output in self.brain.respond(request):
                if isinstance(output, TextDelta):
                    await self.send_events(self.session.add_text(response_id, output.text))
                elif isinstance(output, FunctionCall):
                    await self.send_events(
                        self.session.add_function_call(
                            response_id, output.name, output.arguments, output.call_id
                        )
                    )
        except asyncio.CancelledError:
            raise
        except BrainError as exc:
            logger.warning("%s: brain failed: %s (%s)", self.label, exc.message, exc.code)
            status, error = (
                "failed",
                {"type": "server_error", "code": exc.code, "message": exc.message},
            )
        except Exception:
            logger.exception("%s: brain crashed", self.label)
            status, error = (
                "failed",
                {
                    "type": "server_error",
                    "code": "brain_error",
                    "message": "The assistant failed to answer.",
                },
            )
        await self.send_events(self.session.finish_response(response_id, status, error=error))

    def _stop_response_task(self) -> None:
        if self._response_task is not None and not self._response_task.done():
            self._response_task.cancel()
        self._response_task = None

    async def _expire(self) -> None:
        if self.closed:
            return
        limit = (
            f"{round(self.max_seconds / 60)} minutes"
            if self.max_seconds >= 60
            else f"{self.max_seconds:g} seconds"
        )
        await self.send_events(
            [
                error_event(
                    "invalid_request_error",
                    "session_expired",
                    f"Your session hit the maximum duration of {limit}.",
                )
            ]
        )
        await self._close()

    async def shutdown(self) -> None:
        """Stop everything this connection runs (the transport is closing)."""
        self.closed = True
        if self._expiry is not None:
            self._expiry.cancel()
        self._stop_response_task()
