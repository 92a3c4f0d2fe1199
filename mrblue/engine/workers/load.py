"""How loaded an engine worker is, and whether it takes another session.

A worker's load is a number in 0..1, the larger of two shares: the calls it holds (and has
promised, by minting a secret not yet used) over its capacity, and the CPU it used lately over
one core. It takes a new session only below the threshold, and never while draining (as
LiveKit Agents' workers do with `load_fnc` and `load_threshold`).

A promise (a reservation) belongs to the owner its secret was minted for: an owner holds at
most one unused place on a worker (their new mint replaces their older unclaimed one), and it
counts with their live sessions against their session limit, so nobody can fill a worker with
places they do not use. Free of I/O: time and CPU readings come in as arguments, so tests can
drive it.
"""

import time
from dataclasses import dataclass, field


class EngineBusy(Exception):
    """This worker takes no new session now; `reason` says why (full, loaded, draining)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class OwnerAtLimit(Exception):
    """This owner's live sessions here, with the place a new secret would hold, would pass
    their limit (`limit`)."""

    def __init__(self, limit: int):
        super().__init__(f"at most {limit} sessions per owner")
        self.limit = limit


@dataclass(frozen=True)
class Promise:
    """A place held for a secret's session: whose it is (None: no owner named) and until when."""

    owner: str | None
    deadline: float


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
    _promised: dict[str, Promise] = field(default_factory=dict)  # secret hash -> its promise

    def load(self, live_sessions: int, now: float | None = None) -> float:
        """The worker's load, 0..1."""
        return self._load(live_sessions + len(self._live_promises(now)))

    def _load(self, held: int) -> float:
        return round(min(1.0, max(held / max(self.capacity, 1), self.cpu_share)), 3)

    def promise(
        self,
        secret: str,
        live_sessions: int,
        now: float | None = None,
        *,
        owner: str | None = None,
        owner_sessions: int = 0,
        per_owner: int | None = None,
    ) -> None:
        """Hold a place for a session that `secret` will open, or raise EngineBusy (or
        OwnerAtLimit). The place replaces the owner's older unclaimed one here, if any; with
        `per_owner`, the owner's live sessions here (`owner_sessions`) and this place must fit
        in it."""
        now = time.monotonic() if now is None else now
        if self.draining:
            raise EngineBusy("draining")
        promised = self._live_promises(now)
        replaced = [s for s, p in promised.items() if owner is not None and p.owner == owner]
        if owner is not None and per_owner is not None and owner_sessions + 1 > per_owner:
            raise OwnerAtLimit(per_owner)
        held = live_sessions + len(promised) - len(replaced)
        if held >= self.capacity:
            raise EngineBusy("full")
        if self._load(held) >= self.threshold:
            raise EngineBusy("loaded")
        for old in replaced:
            del self._promised[old]
        self._promised[secret] = Promise(owner, now + self.promise_seconds)

    def promised(self, now: float | None = None) -> int:
        """How many places are promised and not yet used."""
        return len(self._live_promises(now))

    def reserved(self, owner: str | None, now: float | None = None) -> int:
        """How many unused places `owner` holds here (0 or 1; 0 for no owner)."""
        if owner is None:
            return 0
        return sum(p.owner == owner for p in self._live_promises(now).values())

    def claim(self, secret: str | None) -> None:
        """A session opened with `secret`: its promised place becomes a live one."""
        if secret is not None:
            self._promised.pop(secret, None)

    def admits(self, secret: str | None, live_sessions: int, now: float | None = None) -> bool:
        """Whether a session may open now: one that was promised a place always may (unless
        draining); any other only if there is room."""
        if self.draining:
            return False
        promised = self._live_promises(now)
        if secret in promised:
            return True
        return live_sessions + len(promised) < self.capacity

    def _live_promises(self, now: float | None = None) -> dict[str, Promise]:
        now = time.monotonic() if now is None else now
        for secret in [s for s, p in self._promised.items() if p.deadline <= now]:
            del self._promised[secret]
        return self._promised
