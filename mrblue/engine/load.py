"""How loaded an engine worker is, and whether it takes another session.

A worker's load is a number in 0..1, the larger of two shares: the calls it holds (and has
promised, by minting a secret not yet used) over its capacity, and the CPU it used lately over
one core. It takes a new session only below the threshold, and never while draining (as
LiveKit Agents' workers do with `load_fnc` and `load_threshold`). Free of I/O: time and CPU
readings come in as arguments, so tests can drive it.
"""

import time
from dataclasses import dataclass, field


class EngineBusy(Exception):
    """This worker takes no new session now; `reason` says why (full, loaded, draining)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class CpuMeter:
    """This process's recent CPU use as a share of one core, smoothed over a few readings."""

    smoothing: float = 0.5  # weight of the newest reading
    share: float = 0.0
    _last: tuple[float, float] | None = None

    def read(self, wall: float | None = None, cpu: float | None = None) -> float:
        """Take a reading (now, by default) and return the smoothed share."""
        wall = time.monotonic() if wall is None else wall
        cpu = time.process_time() if cpu is None else cpu
        if self._last is not None and wall > self._last[0]:
            newest = (cpu - self._last[1]) / (wall - self._last[0])
            self.share += self.smoothing * (min(newest, 1.0) - self.share)
        self._last = (wall, cpu)
        return self.share


@dataclass
class Capacity:
    """The sessions a worker holds and promised, against its capacity and threshold."""

    capacity: int
    threshold: float
    promise_seconds: float = 30.0  # a minted secret unused this long no longer holds a place
    draining: bool = False
    cpu_share: float = 0.0
    _promised: dict[str, float] = field(default_factory=dict)  # secret hash -> deadline

    def load(self, live_sessions: int, now: float | None = None) -> float:
        """The worker's load, 0..1."""
        held = live_sessions + len(self._live_promises(now))
        return round(min(1.0, max(held / max(self.capacity, 1), self.cpu_share)), 3)

    def promise(self, secret: str, live_sessions: int, now: float | None = None) -> None:
        """Hold a place for a session that `secret` will open, or raise EngineBusy."""
        now = time.monotonic() if now is None else now
        if self.draining:
            raise EngineBusy("draining")
        if live_sessions + len(self._live_promises(now)) >= self.capacity:
            raise EngineBusy("full")
        if self.load(live_sessions, now) >= self.threshold:
            raise EngineBusy("loaded")
        self._promised[secret] = now + self.promise_seconds

    def claim(self, secret: str | None) -> None:
        """A session opened with `secret`: its promised place becomes a live one."""
        if secret is not None:
            self._promised.pop(secret, None)

    def admits(self, secret: str | None, live_sessions: int) -> bool:
        """Whether a session may open now: one that was promised a place always may (unless
        draining); any other only if there is room."""
        if self.draining:
            return False
        if secret in self._live_promises():
            return True
        return live_sessions + len(self._live_promises()) < self.capacity

    def _live_promises(self, now: float | None = None) -> dict[str, float]:
        now = time.monotonic() if now is None else now
        for secret in [s for s, deadline in self._promised.items() if deadline <= now]:
            del self._promised[secret]
        return self._promised
