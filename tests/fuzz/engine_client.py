"""Clients of one engine session, over the WebSocket or over WebRTC's data channel, and the
property every fuzzed sequence of client events must keep (the same for both transports).

Property: every frame is answered (an `error` with a code and message, or the events a valid
one causes; a valid `input_audio_buffer.append` may cause none), every server event is one
the official SDK accepts, the connection never closes or crashes, nothing logs a traceback,
and after each frame a plain `session.update` still gets its `session.updated`.
"""

import asyncio
import base64
import binascii
import itertools
import json

import httpx
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from channels.testing import WebsocketCommunicator
from pydantic import ValidationError

from mrblue.project.asgi import application
from tests.fuzz.harness import Died, disconnect, next_output
from tests.support.live import ENGINE_KEY
from tests.support.realtime_schema import validate_server_event

TIMEOUT = 10
# aiortc's (and browsers') largest data channel message: a client cannot send more.
MAX_CHANNEL_MESSAGE = 256 * 1024


class Unsendable(Exception):
    """A frame this transport cannot carry at all (not the server's business)."""


class WebSocketClient:
    """A session on `/v1/realtime` through Channels' communicator on the ASGI app."""

    def __init__(self, socket: WebsocketCommunicator):
        self.socket = socket

    @classmethod
    async def open(cls) -> "WebSocketClient":
        """Connect with the engine key and read `session.created`."""
        socket = WebsocketCommunicator(
            application,
            "/v1/realtime?model=gpt-realtime",
            headers=[(b"authorization", f"Bearer {ENGINE_KEY}".encode())],
            subprotocols=["realtime"],
        )
        connected, _ = await socket.connect(timeout=TIMEOUT)
        assert connected
        client = cls(socket)
        first = await client.next_event()
        assert first["type"] == "session.created", f"the engine refused the session: {first}"
        return client

    async def send(self, kind: str, payload) -> None:
        """Send a frame: "event" (a dict, as JSON), "text" or "bytes"."""
        # As the ASGI message, so that empty frames go through too.
        if kind == "bytes":
            message = {"type": "websocket.receive", "bytes": payload}
        else:
            text = json.dumps(payload) if kind == "event" else payload
            message = {"type": "websocket.receive", "text": text}
        await self.socket.send_input(message)

    async def next_event(self) -> dict:
        """The next server event; Died if the connection closed or the application raised."""
        message = await next_output(self.socket, TIMEOUT)
        if message["type"] != "websocket.send":
            raise Died(f"the connection closed: {message}")
        return json.loads(message["text"])

    async def close(self) -> str | None:
        """Disconnect; return what went wrong on the way, if anything."""
        return await disconnect(self.socket)


class DataChannelClient:
    """A WebRTC call: an aiortc peer posts its offer to `/v1/realtime/calls` and talks over
    the `oai-events` data channel, as a browser does."""

    def __init__(self, pc: RTCPeerConnection, channel, http: httpx.AsyncClient):
        self.pc = pc
        self.channel = channel
        self.http = http
        self.location = None
        self.events: asyncio.Queue = asyncio.Queue()
        channel.on("message", self.events.put_nowait)
        channel.on("close", lambda: self.events.put_nowait(None))

    @classmethod
    async def open(cls, http: httpx.AsyncClient, secret: str) -> "DataChannelClient":
        """Offer, answer, wait for the channel to open and `session.created`."""
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver("audio", direction="sendrecv")
        client = cls(pc, pc.createDataChannel("oai-events"), http)
        await pc.setLocalDescription(await pc.createOffer())
        answer = await http.post(
            "/v1/realtime/calls",
            content=pc.localDescription.sdp.encode(),
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/sdp"},
        )
        assert answer.status_code == 201, answer.text
        client.location = answer.headers["Location"]
        await pc.setRemoteDescription(RTCSessionDescription(answer.text, "answer"))
        assert (await client.next_event())["type"] == "session.created"
        return client

    async def send(self, kind: str, payload) -> None:
        """Send a message: "event" (a dict, as JSON), "text" or "bytes"."""
        data = json.dumps(payload) if kind == "event" else payload
        if len(data.encode() if isinstance(data, str) else data) > MAX_CHANNEL_MESSAGE:
            raise Unsendable
        self.channel.send(data)

    async def next_event(self) -> dict:
        """The next server event; Died if the channel closed or nothing came in time."""
        try:
            message = await asyncio.wait_for(self.events.get(), TIMEOUT)
        except TimeoutError:
            raise Died(f"no answer within {TIMEOUT} s") from None
        if message is None:
            raise Died("the data channel closed")
        return json.loads(message)

    async def close(self) -> str | None:
        """Hang up on both sides (the server notices a closed peer only after a while)."""
        await self.pc.close()
        answer = await self.http.post(
            f"{self.location}/hangup", headers={"Authorization": f"Bearer {ENGINE_KEY}"}
        )
        return None if answer.status_code in (200, 404) else f"hangup: {answer.status_code}"


_probes = itertools.count()


async def answers_until_probe(client) -> list[dict]:
    """Send a plain session.update and return every event before its session.updated (told
    apart by instructions used once in the process: sessions over WebRTC outlive a sequence)."""
    probe = f"probe {next(_probes)}"
    update = {"type": "session.update", "session": {"type": "realtime", "instructions": probe}}
    await client.send("event", update)
    seen = []
    while True:
        event = await client.next_event()
        if event["type"] == "session.updated" and event["session"]["instructions"] == probe:
            return seen
        seen.append(event)


def may_go_unanswered(kind: str, payload) -> bool:
    """A valid audio append is the one event the protocol answers with nothing."""
    if kind != "event" or payload.get("type") != "input_audio_buffer.append":
        return False
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


async def check_sequence(record, client, sequence) -> bool:
    """Send each frame of `sequence`, then a probe; record how each was answered. Return
    False if the session died or answered wrongly (it is then of no further use)."""
    pending_response, fine = False, True
    for index, (kind, payload, event_id) in enumerate(sequence):
        if kind == "event":
            payload = {**payload, "event_id": f"fz{index}" if event_id is None else event_id}
        try:
            await client.send(kind, payload)
        except Unsendable:
            continue
        try:
            answers = await answers_until_probe(client)
        except Died as exc:
            record.crash((kind, payload), str(exc))
            return False
        problem = problem_with(answers)
        if problem is None and not answers and not may_go_unanswered(kind, payload):
            problem = "no answer at all"
        if problem:
            record.wrong((kind, payload), problem)
            fine = False
        else:
            record.answered(error=any(e["type"] == "error" for e in answers))
        record.check_logs((kind, payload))
        for event in answers:
            if event["type"] in ("response.created", "response.done"):
                pending_response = event["type"] == "response.created"
    try:
        while pending_response:  # the last response must still finish
            pending_response = (await client.next_event())["type"] != "response.done"
    except Died as exc:
        record.crash(sequence, f"while finishing the last response: {exc}")
        return False
    return fine
