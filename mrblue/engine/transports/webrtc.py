"""The engine's WebRTC transport: `POST /v1/realtime/calls`, as OpenAI's Realtime WebRTC.

The browser sends an SDP offer with a microphone track and an `oai-events` data channel; the
engine answers with its voice track. aiortc runs in the server's own event loop; every call
lives in `calls` until it hangs up, fails, times out or the server shuts down.
"""

import asyncio
import contextlib
import json
import logging
import time

import aioice.ice
from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from mrblue.engine.brains import load_brain
from mrblue.engine.engine_settings import engine_settings
from mrblue.engine.protocol.conversation import MemoryLimits
from mrblue.engine.protocol.core import RealtimeSession
from mrblue.engine.protocol.events import new_id
from mrblue.engine.transports.connection import EngineConnection
from mrblue.engine.voice.audio import join_frames
from mrblue.engine.voice.playout import PlayoutQueue, SpeakerTrack
from mrblue.engine.workers.live_sessions import Slot

logger = logging.getLogger("mrblue.engine.transports.webrtc")
EVENTS_CHANNEL = "oai-events"
MIC_BACKLOG_FRAMES = 100  # 2 s of 20 ms frames
# Microphone frames are handled two at a time (40 ms, more than one 32 ms VAD chunk): half the
# per-frame work on the event loop, for 10 ms more detection delay on average. A call that
# fell behind takes up to half a second at once.
MIC_BATCH_FRAMES = 2
MIC_CATCH_UP_FRAMES = 25
MAX_WAITING_EVENTS = 256  # client events received but not yet handled
FLUSH_SECONDS = 1.0  # at most, for the last events to leave before a hang-up


def _offer_only_configured_hosts() -> None:
    # aioice gathers every address but loopback; tests and single-host setups need exactly
    # the configured ones (e.g. 127.0.0.1), so its address lookup is replaced.
    hosts = engine_settings.WEBRTC_HOSTS
    if hosts:
        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(hosts)


class Call:
    """One WebRTC call: the peer connection, its engine connection, its tracks, and its place
    among the live sessions (given back when it closes)."""

    answer_sdp: str  # set by `start_call` once the offer is answered

    def __init__(self, config: dict, slot: Slot | None = None):
        self.id = new_id("rtc")
        self.slot = slot
        servers = [RTCIceServer(urls=url) for url in engine_settings.ICE_SERVERS]
        # An explicit empty list: aiortc otherwise asks a public STUN server.
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self.playout = PlayoutQueue()
        self.channel: RTCDataChannel | None = None  # the events channel, once the browser opens it
        self._waiting: list[dict] = []  # events sent before the data channel opened
        self._inbox: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: set[asyncio.Task] = set()
        self.closed = asyncio.Event()
        self.connection = EngineConnection(
            RealtimeSession(
                config,
                output_audio_buffer=True,
                limits=MemoryLimits.from_settings(engine_settings),
            ),
            load_brain(engine_settings.ENGINE_BRAIN),
            self._send,
            self.close,
            max_message_bytes=engine_settings.ENGINE_MAX_MESSAGE_BYTES,
            max_seconds=engine_settings.ENGINE_SESSION_SECONDS,
            label=self.id,
            playout=self.playout,
        )
        if slot is not None:
            slot.end = self.connection.end
        self.pc.addTrack(SpeakerTrack(self.playout, self.connection.playback_note))
        self.pc.on("track", self._on_track)
        self.pc.on("datachannel", self._on_datachannel)
        self.pc.on("connectionstatechange", self._on_state)

    async def answer(self, offer_sdp: str) -> str:
        """Accept the browser's offer; return the answer SDP (ICE candidates included)."""
        before = asyncio.all_tasks()
        await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self._watch_aiortc_tasks(asyncio.all_tasks() - before)
        self._spawn(self._work_inbox())
        self.connection.arm_time_limit()  # from the call's creation, channel or not
        loop = asyncio.get_running_loop()
        loop.call_later(engine_settings.WEBRTC_CONNECT_TIMEOUT, self._connect_deadline)
        return self.pc.localDescription.sdp

    def _spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(self._task_done)

    def _watch_aiortc_tasks(self, started: set[asyncio.Task]) -> None:
        # aiortc connects in tasks of its own that nobody awaits: a failure there (a
        # transport it could not start) would only be logged by asyncio when the task is
        # collected, and the call would live on, broken. Watch those of this peer connection.
        for task in started:
            frame = getattr(task.get_coro(), "cr_frame", None)
            if frame is not None and frame.f_locals.get("self") is self.pc:
                task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        """A task of this call ended: if it failed, the call is over (its failure is
        retrieved here, so asyncio does not report it again)."""
        if task.cancelled() or task.exception() is None:
            return
        if not self.closed.is_set():
            error = task.exception()
            name = getattr(task.get_coro(), "__qualname__", "a task")
            logger.warning(
                "call %s: %s failed (%s: %s); closing the call",
                self.id,
                name,
                type(error).__name__,
                error,
            )
            self._spawn(self.close())

    def _on_track(self, track) -> None:
        if track.kind == "audio":
            self._spawn(self._listen(track))

    async def _listen(self, track) -> None:
        # aiortc queues received frames without bound: read them at once into a bounded
        # backlog, and drop the oldest when processing falls behind.
        backlog: asyncio.Queue = asyncio.Queue(maxsize=MIC_BACKLOG_FRAMES)
        self._spawn(self._hear(backlog))
        dropped = 0
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if backlog.full():
                backlog.get_nowait()
                dropped += 1
                if dropped == 1 or dropped % 250 == 0:
                    logger.warning(
                        "call %s: falling behind, dropped %d old microphone frames",
                        self.id,
                        dropped,
                    )
            backlog.put_nowait(frame)

    async def _hear(self, backlog: asyncio.Queue) -> None:
        failures = 0
        while True:
            frames = [await backlog.get()]
            while len(frames) < MIC_BATCH_FRAMES:
                frames.append(await backlog.get())
            while not backlog.empty() and len(frames) < MIC_CATCH_UP_FRAMES:
                frames.append(backlog.get_nowait())
            try:
                for frame in join_frames(frames):
                    await self.connection.microphone_frame(frame)
            except Exception:
                # The call goes on without this frame; a failure that repeats on every frame
                # is reported once, then counted.
                failures += 1
                if failures == 1:
                    await self.connection.internal_error("microphone audio")
                elif failures % 500 == 0:
                    logger.warning("call %s: %d microphone frames failed", self.id, failures)

    def _on_datachannel(self, channel) -> None:
        if channel.label != EVENTS_CHANNEL:
            return
        self.channel = channel
        channel.on("message", self._receive)
        channel.on("close", lambda: self._spawn(self.close()))
        if channel.readyState == "open":
            self._spawn(self._channel_open())
        else:
            channel.on("open", lambda: self._spawn(self._channel_open()))

    async def _channel_open(self) -> None:
        assert self.channel is not None  # opened by `_on_datachannel`
        waiting, self._waiting = self._waiting, []
        for event in waiting:
            self.channel.send(json.dumps(event))
        await self.connection.start()  # session.created, first thing on the channel

    def _receive(self, message) -> None:
        # aiortc hands over every message at once: a client sending faster than the events
        # are handled gets an error per event refused, instead of growing the queue.
        if self._inbox.qsize() >= MAX_WAITING_EVENTS:
            self._spawn(
                self.connection.report_error(
                    "too_many_events",
                    f"More than {MAX_WAITING_EVENTS} events are waiting; this one was dropped.",
                )
            )
            return
        self._inbox.put_nowait(message)

    async def _work_inbox(self) -> None:
        while True:  # one at a time, in order
            message = await self._inbox.get()
            if isinstance(message, bytes):
                message = message.decode("utf-8", "replace")
            await self.connection.receive_text(message)

    async def _send(self, event: dict) -> None:
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(json.dumps(event))
        else:
            self._waiting.append(event)  # audio can arrive before the channel opens

    def _on_state(self) -> None:
        state = self.pc.connectionState
        logger.info("call %s: %s", self.id, state)
        if state in ("failed", "closed"):
            self._spawn(self.close())

    def _connect_deadline(self) -> None:
        if self.closed.is_set():
            return
        if self.pc.connectionState != "connected":
            logger.warning("call %s did not connect in time", self.id)
            self._spawn(self.close())
        elif self.channel is None or self.channel.readyState != "open":
            # Audio alone is no session: without its events channel a call would hold its
            # place (and the microphone's work) for nothing.
            logger.warning("call %s never opened its %s channel", self.id, EVENTS_CHANNEL)
            self._spawn(self.close())

    async def close(self) -> None:
        """Hang up: stop the session and close the peer connection (idempotent)."""
        if self.closed.is_set():
            return
        self.closed.set()
        calls.discard(self)
        if self.slot is not None:
            self.slot.release()
        await self.connection.shutdown()
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        await self._let_events_leave()
        await self.pc.close()  # ends aiortc's codec threads, which else outlive the server
        logger.info("call %s closed", self.id)

    async def _let_events_leave(self) -> None:
        # aiortc hands a sent message to SCTP from a task of its own, and closing the peer
        # connection first aborts the association with it unsent: the `error` event saying
        # why the server ends a call (a drain, an expiry) would never arrive.
        channel = self.channel
        if (
            channel is None
            or channel.readyState != "open"
            or self.pc.connectionState != "connected"
            or channel.bufferedAmount == 0
        ):
            return
        sent = asyncio.Event()
        channel.once("bufferedamountlow", sent.set)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sent.wait(), FLUSH_SECONDS)


class CallRegistry:
    """Live calls of this process; closes them all on shutdown."""

    def __init__(self):
        self._calls: dict[str, Call] = {}
        self._shutdown_hooked = False

    def add(self, call: Call) -> None:
        """Remember a call (its place among the sessions is its own `slot`)."""
        self._calls[call.id] = call
        self._hook_shutdown()

    def discard(self, call: Call) -> None:
        """Forget a call."""
        self._calls.pop(call.id, None)

    def get(self, call_id: str) -> Call | None:
        """The live call with this id."""
        return self._calls.get(call_id)

    async def close_all(self) -> None:
        """Hang up every call."""
        await asyncio.gather(
            *(call.close() for call in list(self._calls.values())), return_exceptions=True
        )

    def _hook_shutdown(self) -> None:
        if self._shutdown_hooked:
            return
        self._shutdown_hooked = True
        try:
            from twisted.internet import defer, reactor
        except ImportError:
            return
        # Daphne runs on Twisted's asyncio reactor: close the calls before it stops, or
        # aiortc's threads keep the process alive after SIGTERM.
        reactor.addSystemEventTrigger(
            "before",
            "shutdown",
            lambda: defer.Deferred.fromFuture(asyncio.ensure_future(self.close_all())),
        )

    def __len__(self):
        return len(self._calls)


calls = CallRegistry()


async def start_call(offer_sdp: str, config: dict, slot: Slot | None = None) -> Call:
    """Create a call for an offer (the caller checked the key and got the call's place,
    which the call gives back when it closes)."""
    _offer_only_configured_hosts()
    config["expires_at"] = int(time.time()) + engine_settings.ENGINE_SESSION_SECONDS
    call = Call(config, slot)
    calls.add(call)
    try:
        call.answer_sdp = await call.answer(offer_sdp)
    except Exception:
        await call.close()
        raise
    return call
