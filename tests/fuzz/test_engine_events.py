"""The engine's WebSocket `/v1/realtime`: sequences of fuzzed client events and raw frames.

Property: every frame is answered (an `error` with a code and message, or the events a valid
one causes; a valid `input_audio_buffer.append` may cause none), every server event is one
the official SDK accepts, the connection never closes or crashes, nothing logs a traceback,
and after each frame a plain `session.update` still gets its `session.updated`.

The WebRTC data channel hands its messages to the same engine connection as the WebSocket
(`webrtc.Call._receive` → `EngineConnection.receive_text`); those modules are being
restructured, so this fuzzes that path through the WebSocket only.
"""

import asyncio
import json

import pytest
from channels.testing import WebsocketCommunicator
from hypothesis import given
from pydantic import ValidationError

from mrblue.asgi import application
from tests.fuzz.engine_events import frames
from tests.fuzz.harness import (
    Died,
    close_loop,
    disconnect,
    drive,
    fuzz_settings,
    next_output,
    tally,
)
from tests.live import ENGINE_KEY
from tests.realtime_schema import validate_server_event

SURFACE = "engine events (WebSocket)"
TIMEOUT = 10


@pytest.fixture
def engine(settings):
    settings.MRBLUE_ENGINE_API_KEY = ENGINE_KEY
    loop = asyncio.new_event_loop()
    yield loop
    close_loop(loop)


async def open_session() -> WebsocketCommunicator:
    socket = WebsocketCommunicator(
        application,
        "/v1/realtime?model=gpt-realtime",
        headers=[(b"authorization", f"Bearer {ENGINE_KEY}".encode())],
        subprotocols=["realtime"],
    )
    connected, _ = await socket.connect(timeout=TIMEOUT)
    assert connected
    first = await socket.receive_json_from(timeout=TIMEOUT)
    assert first["type"] == "session.created"
    return socket


async def next_event(socket) -> dict:
    message = await next_output(socket, TIMEOUT)
    if message["type"] != "websocket.send":
        raise Died(f"the connection closed: {message}")
    return json.loads(message["text"])


async def send_frame(socket, kind: str, payload) -> None:
    # As the ASGI message, so that empty frames go through too.
    if kind == "bytes":
        message = {"type": "websocket.receive", "bytes": payload}
    else:
        message = {
            "type": "websocket.receive",
            "text": json.dumps(payload) if kind == "event" else payload,
        }
    await socket.send_input(message)


async def answers_until_probe(socket, probe: str) -> list[dict]:
    """Send a plain session.update and return every event before its session.updated."""
    await send_frame(
        socket,
        "event",
        {"type": "session.update", "session": {"type": "realtime", "instructions": probe}},
    )
    seen = []
    while True:
        event = await next_event(socket)
        if event["type"] == "session.updated" and event["session"]["instructions"] == probe:
            return seen
        seen.append(event)


def may_go_unanswered(kind: str, payload) -> bool:
    """A valid audio append is the one event the protocol answers with nothing."""
    if kind != "event" or payload.get("type") != "input_audio_buffer.append":
        return False
    import base64
    import binascii

    try:
        base64.b64decode(payload.get("audio"), validate=True)
    except (binascii.Error, TypeError, ValueError):
        return False
    return True


def problem_with(events: list[dict]) -> str | None:
    """Why these server events are not what the protocol allows, if they are not."""
    for event in events:
        try:
            validate_server_event(event)
        except (AssertionError, ValidationError) as exc:
            return f"server event the SDK rejects: {event!r:.400}: {exc!s:.600}"
        if event["type"] == "error" and not (
            event["error"].get("code") and event["error"].get("message")
        ):
            return f"error event without code or message: {event!r}"
    return None


async def run_sequence(record, sequence) -> None:
    socket = await open_session()
    pending_response = False
    try:
        for index, (kind, payload, event_id) in enumerate(sequence):
            if kind == "event":
                payload = {**payload, "event_id": f"fz{index}" if event_id is None else event_id}
            await send_frame(socket, kind, payload)
            try:
                answers = await answers_until_probe(socket, f"probe {index}")
            except Died as exc:
                record.crash((kind, payload), str(exc))
                return
            problem = problem_with(answers)
            if problem is None and not answers and not may_go_unanswered(kind, payload):
                problem = "no answer at all"
            if problem:
                record.wrong((kind, payload), problem)
            else:
                record.answered(error=any(e["type"] == "error" for e in answers))
            record.check_logs((kind, payload))
            for event in answers:
                if event["type"] == "response.created":
                    pending_response = True
                elif event["type"] == "response.done":
                    pending_response = False
        if pending_response:  # the last response must still finish
            while (await next_event(socket))["type"] != "response.done":
                pass
    except Died as exc:
        record.crash(sequence, f"while finishing: {exc}")
    finally:
        await disconnect(socket)
    record.check_logs(sequence)


def test_engine_client_events(engine):
    record = tally(SURFACE)

    @fuzz_settings(ci_examples=40, inputs_per_example=3.5)
    @given(sequence=frames)
    def fuzz(sequence):
        engine.run_until_complete(run_sequence(record, sequence))

    drive(record, fuzz)
    record.finish()
