"""Outgoing assistant audio over WebRTC: a clearable queue, paced out as a 20 ms audio track.

`PlayoutQueue` is bookkeeping with no I/O: which response and item each sample belongs to, how
much of each item was actually played (for truncation on barge-in), and when playback of a
response starts and stops. `Pacer` decides, also without I/O, which frame is due when.
`SpeakerTrack` is the aiortc track that pulls from the queue on the wall clock and hands aiortc
Opus packets it encoded itself: a speaking call is silent most of the time, and silence is one
constant packet, not a frame to resample and encode (on a thread) 50 times a second.
"""

import asyncio
import collections
import fractions
import time
from collections.abc import Callable

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from mrblue.engine.protocol.spec import PROTOCOL_RATE

FRAME_SAMPLES = PROTOCOL_RATE // 50  # 20 ms
FRAME_BYTES = FRAME_SAMPLES * 2
FRAME_SECONDS = FRAME_SAMPLES / PROTOCOL_RATE
BYTES_PER_MS = PROTOCOL_RATE * 2 / 1000
OPUS_RATE = 48_000  # Opus's RTP clock, whatever rate it encodes
OPUS_TIME_BASE = fractions.Fraction(1, OPUS_RATE)
SILENCE_PACKET = b"\xf8\xff\xfe"  # 20 ms of silence: a CELT fullband mono frame, no data
OPUS_BITRATE = 32_000  # plenty for one synthetic voice (aiortc's default is 96 kbit/s stereo)
LATE_FRAMES = 2  # a track this far behind while silent skips the silence it missed


class PlayoutQueue:
    """Audio waiting to be played, by response and item, and what has been played."""

    def __init__(self) -> None:
        # (response_id, item_id, the samples not yet played)
        self._segments: collections.deque[tuple[str, str, bytearray]] = collections.deque()
        self._finished: set[str] = set()  # responses whose audio is all queued
        self.played_ms: dict[str, float] = {}
        self.playing: str | None = None  # response being heard
        self.current_item: str | None = None  # its item being heard

    def push(self, response_id: str, item_id: str, pcm: bytes) -> None:
        """Queue 24 kHz mono pcm16 of an assistant item."""
        if pcm:
            self._segments.append((response_id, item_id, bytearray(pcm)))

    def finish(self, response_id: str) -> None:
        """No more audio will come for this response."""
        self._finished.add(response_id)

    def pull(self, size: int = FRAME_BYTES) -> tuple[bytes, list[tuple[str, str]]]:
        """The next `size` bytes (silence-padded), and ("started"|"stopped", response_id)
        notes for playback that began or ended with them."""
        notes: list[tuple[str, str]] = []
        out = bytearray()
        while len(out) < size and self._segments:
            response_id, item_id, data = self._segments[0]
            if self.playing != response_id:
                if self.playing is not None:
                    notes.append(("stopped", self.playing))
                self.playing = response_id
                notes.append(("started", response_id))
            self.current_item = item_id
            take = data[: size - len(out)]
            del data[: len(take)]
            out += take
            self.played_ms[item_id] = self.played_ms.get(item_id, 0.0) + len(take) / BYTES_PER_MS
            if not data:
                self._segments.popleft()
        if not self._segments and self.playing in self._finished:
            notes.append(("stopped", self.playing))
            self._finished.discard(self.playing)
            self.playing = None
        out += bytes(size - len(out))
        return bytes(out), notes

    def clear(self) -> tuple[str, str, float] | None:
        """Drop everything queued; return (response_id, item_id, played_ms) of what was
        being heard, if anything was."""
        heard = None
        if self.playing is not None:
            assert self.current_item is not None  # `pull` sets both
            heard = (self.playing, self.current_item, self.played_ms.get(self.current_item, 0.0))
        elif self._segments:
            response_id, item_id, _ = self._segments[0]
            heard = (response_id, item_id, self.played_ms.get(item_id, 0.0))
        self._segments.clear()
        if self.playing:
            self._finished.discard(self.playing)
        self.playing = None
        return heard

    @property
    def busy(self) -> bool:
        """Whether audio is queued or playing."""
        return bool(self._segments) or self.playing is not None


class Pacer:
    """Which 20 ms frame is due, on a clock that starts at the first frame.

    A track that falls behind (the event loop was busy) sends the frames it owes back to back
    while it speaks: no audio is lost. While it is silent it skips the silence it missed
    instead: a burst of late silence would sit in the browser's jitter buffer, ahead of the
    next answer, and its lateness would teach the buffer to hold more.
    """

    def __init__(self) -> None:
        self._start: float | None = None
        self.frame = -1  # the frame last handed out

    def next(self, now: float, speaking: bool) -> float:
        """Advance to the next frame; return how many seconds to wait until it is due."""
        if self._start is None:
            self._start, self.frame = now, 0
            return 0.0
        self.frame += 1
        wait = self._start + self.frame * FRAME_SECONDS - now
        if not speaking and wait < -LATE_FRAMES * FRAME_SECONDS:
            self.frame = int((now - self._start) / FRAME_SECONDS)  # the one due now
            wait = 0.0
        return max(wait, 0.0)


class OpusEncoder:
    """20 ms frames of 24 kHz mono pcm16 to Opus payloads (libopus takes 24 kHz as it is)."""

    def __init__(self) -> None:
        self._codec = av.CodecContext.create("libopus", "w")
        self._codec.sample_rate = PROTOCOL_RATE
        self._codec.format = "s16"
        self._codec.layout = "mono"
        self._codec.bit_rate = OPUS_BITRATE
        self._codec.options = {"application": "voip"}
        self._codec.time_base = fractions.Fraction(1, PROTOCOL_RATE)
        self._pts = 0

    def encode(self, pcm: bytes) -> bytes:
        """One frame's payload (libopus keeps 6.5 ms of look-ahead between frames)."""
        samples = np.frombuffer(pcm, dtype=np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = PROTOCOL_RATE
        frame.pts = self._pts
        self._pts += FRAME_SAMPLES
        return b"".join(bytes(packet) for packet in self._codec.encode(frame))


class SpeakerTrack(MediaStreamTrack):
    """The assistant's voice: a 20 ms Opus packet on the wall clock, silence when idle."""

    kind = "audio"

    def __init__(self, queue: PlayoutQueue, on_note: Callable[[tuple[str, str]], None]):
        super().__init__()
        self.queue = queue
        self.on_note = on_note  # called with ("started"|"stopped", response_id)
        self._pacer = Pacer()
        self._encoder: OpusEncoder | None = None

    async def recv(self) -> av.Packet:
        """The next packet, when it is due."""
        if self.readyState != "live":
            raise MediaStreamError
        wait = self._pacer.next(time.monotonic(), self.queue.busy)
        if wait > 0:
            await asyncio.sleep(wait)  # pacing: the track plays in real time
        packet = av.Packet(self._payload())
        packet.pts = self._pacer.frame * FRAME_SAMPLES * OPUS_RATE // PROTOCOL_RATE
        packet.time_base = OPUS_TIME_BASE
        return packet

    def _payload(self) -> bytes:
        if not self.queue.busy:
            return SILENCE_PACKET
        pcm, notes = self.queue.pull()
        for note in notes:
            self.on_note(note)
        if self._encoder is None:
            self._encoder = OpusEncoder()
        return self._encoder.encode(pcm) or SILENCE_PACKET  # (libopus had nothing ready)
