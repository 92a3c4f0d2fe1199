"""Outgoing assistant audio over WebRTC: a clearable queue, paced out as a 20 ms audio track.

`PlayoutQueue` is bookkeeping with no I/O: which response and item each sample belongs to, how
much of each item was actually played (for truncation on barge-in), and when playback of a
response starts and stops. `SpeakerTrack` is the aiortc track that pulls from it on the wall
clock and plays silence when there is nothing to say.
"""

import asyncio
import collections
import fractions
import time

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from mrblue.engine.vocabulary import PROTOCOL_RATE

FRAME_SAMPLES = PROTOCOL_RATE // 50  # 20 ms
FRAME_BYTES = FRAME_SAMPLES * 2
BYTES_PER_MS = PROTOCOL_RATE * 2 / 1000


class PlayoutQueue:
    """Audio waiting to be played, by response and item, and what has been played."""

    def __init__(self):
        self._segments = collections.deque()  # [response_id, item_id, bytearray]
        self._finished: set[str] = set()  # responses whose audio is all queued
        self.played_ms: dict[str, float] = {}
        self.playing: str | None = None  # response being heard
        self.current_item: str | None = None  # its item being heard

    def push(self, response_id: str, item_id: str, pcm: bytes) -> None:
        """Queue 24 kHz mono pcm16 of an assistant item."""
        if pcm:
            self._segments.append([response_id, item_id, bytearray(pcm)])

    def finish(self, response_id: str) -> None:
        """No more audio will come for this response."""
        self._finished.add(response_id)

    def pull(self, size: int = FRAME_BYTES) -> tuple[bytes, list[tuple[str, str]]]:
        """The next `size` bytes (silence-padded), and ("started"|"stopped", response_id)
        notes for playback that began or ended with them."""
        notes, out = [], bytearray()
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


class SpeakerTrack(MediaStreamTrack):
    """The assistant's voice: 20 ms frames on the wall clock, silence when idle."""

    kind = "audio"

    def __init__(self, queue: PlayoutQueue, on_note):
        super().__init__()
        self.queue = queue
        self.on_note = on_note  # called with ("started"|"stopped", response_id)
        self._start: float | None = None
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        """The next frame, when it is due."""
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME_SAMPLES
            delay = self._start + self._pts / PROTOCOL_RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing: the track plays in real time
        pcm, notes = self.queue.pull()
        for note in notes:
            self.on_note(note)
        samples = np.frombuffer(pcm, dtype=np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = PROTOCOL_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, PROTOCOL_RATE)
        return frame
