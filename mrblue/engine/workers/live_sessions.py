"""The live engine sessions of this process, and who may start another.

A session takes a place (`Slot`) before it starts and gives it back when it ends, however it
ends. Places are bounded per process, per client secret, and per owner (the opaque tag the app
gives a secret when it mints one for a user: a user who mints several secrets is still one
owner; on a worker, a place the owner holds unused counts too). A refusal says which bound was
met.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mrblue.engine.engine_settings import engine_settings


class SessionRefused(Exception):
    """No place for a new session: `code` and `message` are what the client is told."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(eq=False)
class Slot:
    """One live session's place: its secret (hash) and owner, if any."""

    registry: "SessionRegistry"
    secret: str | None = None
    owner: str | None = None
    # How to end the session from outside (a draining worker): `end(code, message)` sends an
    # `error` event and closes. Set by the transport once the session runs.
    end: Callable[[str, str], Awaitable[None]] | None = None

    def release(self) -> None:
        """Give the place back (idempotent)."""
        self.registry._live.discard(self)
        self.registry._wake_if_empty()


class SessionRegistry:
    """The places held by live sessions, with the ceilings the settings give."""

    def __init__(self):
        self._live: set[Slot] = set()
        self._emptied: list[asyncio.Future] = []

    def admit(self, secret: str | None = None, owner: str | None = None, reserved: int = 0) -> Slot:
        """A place for a new session, or `SessionRefused` naming the bound it would pass;
        `reserved` is how many unused places the owner holds besides (a worker's promises)."""
        per_secret = engine_settings.ENGINE_SESSIONS_PER_SECRET
        per_owner = engine_settings.ENGINE_SESSIONS_PER_OWNER
        if len(self._live) >= engine_settings.ENGINE_MAX_SESSIONS:
            raise SessionRefused(
                "session_limit_reached",
                "The engine is at its limit of concurrent sessions; try again later.",
            )
        if secret is not None and self.holding(secret=secret) >= per_secret:
            raise SessionRefused(
                "client_secret_session_limit",
                f"This client secret already has {per_secret} live sessions, its limit; "
                "end one first.",
            )
        if owner is not None and self.holding(owner=owner) + reserved >= per_owner:
            raise SessionRefused(
                "user_session_limit",
                f"You already have {per_owner} live sessions, the limit; end one (close "
                "another tab or call) first.",
            )
        slot = Slot(self, secret, owner)
        self._live.add(slot)
        return slot

    def holding(self, *, secret: str | None = None, owner: str | None = None) -> int:
        """How many live sessions hold this secret (or belong to this owner)."""
        if secret is not None:
            return sum(slot.secret == secret for slot in self._live)
        return sum(slot.owner == owner for slot in self._live)

    async def wait_empty(self, timeout: float) -> bool:
        """Wait until no session is live, at most `timeout` seconds; whether it happened."""
        if not self._live:
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._emptied.append(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
            return True
        except TimeoutError:
            return False

    async def end_all(self, code: str, message: str) -> None:
        """End every live session with an `error` event saying `message`."""
        enders = [slot.end for slot in list(self._live) if slot.end is not None]
        await asyncio.gather(*(end(code, message) for end in enders), return_exceptions=True)

    def _wake_if_empty(self) -> None:
        if self._live:
            return
        waiters, self._emptied = self._emptied, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def __len__(self):
        return len(self._live)


sessions = SessionRegistry()
