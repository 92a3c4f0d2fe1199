"""An engine worker's life: load the models, publish its load, admit sessions, drain.

A worker is a Daphne process with `MRBLUE_ENGINE_ROLE=worker` (`bootstrap serve` starts one per
core). Before it offers itself it loads the speech models (LiveKit's prewarm), so no caller
waits for them, and times them to learn how many calls it carries (`calibration`). A heartbeat
thread then publishes its load to the directory, signed with the engine key; it runs apart from
the event loop so that a loop busy with audio still says it is alive, and it proves each beat
that the loop still runs (a no-op posted to it must have run): a worker whose loop is stuck
publishes itself as not placeable. On SIGTERM (or SIGINT) it drains: it takes no new session,
lets the calls it holds go on for `MRBLUE_ENGINE_DRAIN_SECONDS`, ends what is left with an
`error` event, and exits.
"""

import asyncio
import logging
import os
import re
import secrets
import signal
import socket
import threading
import time

from mrblue.engine.engine_settings import engine_settings
from mrblue.engine.workers import calibration
from mrblue.engine.workers.directory import WorkerRecord, directory
from mrblue.engine.workers.live_sessions import sessions
from mrblue.engine.workers.load import Capacity, CpuMeter, EngineBusy, OwnerAtLimit

logger = logging.getLogger("mrblue.engine.workers.worker")
SHUTTING_DOWN = (
    "server_shutting_down",
    "This Mr. Blue worker is shutting down; reconnect to go on.",
)


STALL_BEATS = 3  # a loop that has not run a posted no-op for this many beats is stuck
MIN_STALL_SECONDS = 2.0  # ...and at least this long (a loop busy with audio lags a little)


def new_worker_id() -> str:
    """An id unique to this process start: host, pid and a random suffix (hosts and pids
    repeat: host networking, a fixed container hostname, a restart)."""
    host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:24] or "worker"
    return f"{host}-{os.getpid()}-{secrets.token_hex(4)}"


class LoopWatch:
    """Whether an event loop still runs, asked from another thread: each check posts a no-op
    to the loop unless the last one is still waiting, and a no-op waiting longer than `limit`
    seconds means the loop is stuck (blocked, e.g. in a deadlock or blocking I/O)."""

    def __init__(self):
        self.loop: asyncio.AbstractEventLoop | None = None
        self._posted: float | None = None  # when the no-op still waiting was posted

    def watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Watch `loop` (the one that serves this process's requests)."""
        self.loop = loop

    def runs(self, limit: float, now: float | None = None) -> bool:
        """Whether the loop ran a posted no-op within `limit` seconds (False before it is
        known, and once it is closed)."""
        now = time.monotonic() if now is None else now
        if self.loop is None:
            return False
        posted = self._posted
        if posted is not None:
            return now - posted <= limit
        self._posted = now
        try:
            self.loop.call_soon_threadsafe(self._ran)
        except RuntimeError:  # the loop is closed
            return False
        return True

    def _ran(self) -> None:
        self._posted = None


class Worker:
    """This process as an engine worker: its identity, capacity and heartbeat."""

    def __init__(self, url: str):
        self.id = new_worker_id()
        self.url = url.rstrip("/")
        self.started_at = time.time()
        # Until calibration sets it (before the worker offers itself): the pinned one, or 1.
        self.capacity = Capacity(
            calibration.pinned_capacity() or 1, engine_settings.ENGINE_LOAD_THRESHOLD
        )
        self.calibration: calibration.Decision | None = None
        self.readings: calibration.Readings | None = None
        self.cpu = CpuMeter()
        self.loop_watch = LoopWatch()
        self.responsive = False  # the loop ran at the last beat
        self.beats = 0  # records published
        self.ready = threading.Event()  # models loaded, heartbeat running
        self._stop = threading.Event()
        self._lock = threading.Lock()  # admission runs on the loop and in sync views

    # --- admission ----------------------------------------------------------------------

    def promise(self, secret_hash: str, owner: str | None = None) -> None:
        """Hold a place for the session a new secret will open, replacing the owner's older
        unused one here; or raise EngineBusy (or OwnerAtLimit: the owner's live sessions here
        and this place would pass `MRBLUE_ENGINE_SESSIONS_PER_OWNER`)."""
        with self._lock:
            self.capacity.promise(
                secret_hash,
                len(sessions),
                owner=owner,
                owner_sessions=sessions.holding(owner=owner) if owner else 0,
                per_owner=engine_settings.ENGINE_SESSIONS_PER_OWNER,
            )

    def reserved(self, owner: str | None) -> int:
        """How many unused places `owner` holds here (0 or 1)."""
        with self._lock:
            return self.capacity.reserved(owner)

    def admits(self, secret_hash: str | None) -> bool:
        """Whether a session opened with this secret (None: the engine key) may start here;
        if so its promised place becomes a live one."""
        with self._lock:
            if not self.capacity.admits(secret_hash, len(sessions)):
                return False
            self.capacity.claim(secret_hash)
            return True

    def promised(self) -> int:
        """How many places minted secrets hold here, unused yet."""
        with self._lock:
            return self.capacity.promised()

    def record(self) -> WorkerRecord:
        """What the heartbeat publishes."""
        with self._lock:
            self.capacity.cpu_share = self.cpu.read()
            load = self.capacity.load(len(sessions))
        return WorkerRecord(
            worker_id=self.id,
            url=self.url,
            load=load,
            sessions=len(sessions),
            capacity=self.capacity.capacity,
            draining=self.capacity.draining,
            responsive=self.responsive,
            beat=self.beats,
            pid=os.getpid(),
            started_at=self.started_at,
            capacity_reason=self.calibration.reason if self.calibration else "",
        )

    def health(self) -> dict:
        """The health check's answer. (While the loop is stuck no answer comes at all: the
        loop serves it. `stuck` is what the last beat saw, until the next one.)"""
        record = self.record()
        if record.draining:
            status = "draining"
        elif not self.ready.is_set():
            status = "starting"
        else:
            status = "ok" if record.responsive else "stuck"
        return {
            "status": status,
            "worker_id": self.id,
            "load": record.load,
            "sessions": record.sessions,
            "reserved": self.promised(),
            "capacity": record.capacity,
            "capacity_reason": record.capacity_reason,
            "calibration": self.calibration.summary(self.readings) if self.calibration else None,
        }

    # --- heartbeat ----------------------------------------------------------------------

    def run_heartbeat(self) -> None:
        """Load the models, then publish the record every beat until stopped (a thread)."""
        from mrblue.engine.voice import speech

        speech.load_models()
        self.calibrate()
        self.ready.set()
        logger.info("engine worker %s ready at %s", self.id, self.url)
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(engine_settings.ENGINE_HEARTBEAT_SECONDS)

    def calibrate(self) -> None:
        """Time this machine's speech work and take the capacity it allows (or the pinned
        one): before the worker offers itself, so no gateway sees another."""
        decision, readings = calibration.measure()
        with self._lock:
            self.capacity.capacity = decision.capacity
        self.calibration, self.readings = decision, readings
        logger.info("engine worker %s carries %s", self.id, decision.reason)

    def beat(self) -> None:
        """See whether the loop runs, then publish the record once (a failure is logged; the
        next beat tries again)."""
        beat_seconds = engine_settings.ENGINE_HEARTBEAT_SECONDS
        runs = self.loop_watch.runs(max(STALL_BEATS * beat_seconds, MIN_STALL_SECONDS))
        if self.beats and runs != self.responsive and self.ready.is_set():
            log = logger.info if runs else logger.warning
            log("worker %s: event loop %s", self.id, "runs again" if runs else "stuck")
        self.responsive = runs
        self.beats += 1
        try:
            directory().publish(self.record())
        except Exception as error:  # the directory is down: say so, keep beating
            logger.warning("worker %s: heartbeat failed (%s)", self.id, type(error).__name__)

    # --- draining -----------------------------------------------------------------------

    async def drain(self, seconds: float) -> None:
        """Take no new session; wait up to `seconds` for the live ones; end the rest."""
        with self._lock:
            self.capacity.draining = True
        await asyncio.to_thread(self.beat)  # gateways stop placing here at once
        logger.info("worker %s draining: %d sessions, up to %g s", self.id, len(sessions), seconds)
        if not await sessions.wait_empty(seconds):
            logger.info("worker %s: ending %d sessions", self.id, len(sessions))
            await sessions.end_all(*SHUTTING_DOWN)
        self._stop.set()
        await asyncio.to_thread(self._leave)

    def _leave(self) -> None:
        try:
            directory().remove(self.id)
        except Exception as error:
            logger.warning("worker %s: could not leave the directory (%s)", self.id, error)


current: Worker | None = None  # this process's worker, when it is one


def admits(secret_hash: str | None) -> bool:
    """Whether this process may start a session for this secret now: always when it runs the
    engine in-process; as its capacity says when it is a worker."""
    return current is None or current.admits(secret_hash)


def reserved(owner: str | None) -> int:
    """How many unused places `owner` holds in this process (always 0 outside a worker)."""
    return 0 if current is None else current.reserved(owner)


def start_worker() -> Worker:
    """Make this process an engine worker (called once, as the ASGI app loads)."""
    global current
    url = engine_settings.ENGINE_WORKER_URL
    if not url:
        raise RuntimeError("MRBLUE_ENGINE_WORKER_URL must name this worker's URL")
    current = Worker(url)
    threading.Thread(target=current.run_heartbeat, name="mrblue-heartbeat", daemon=True).start()
    _watch_loop(current)
    _drain_on_signals(current)
    return current


def _watch_loop(worker: Worker) -> None:
    # This runs while the ASGI app loads, before Daphne starts Twisted's reactor (on asyncio):
    # the loop to watch is the one running the reactor's first delayed call.
    from twisted.internet import reactor

    def watch():
        worker.loop_watch.watch(asyncio.get_running_loop())

    reactor.callWhenRunning(lambda: reactor.callLater(0, watch))


def _drain_on_signals(worker: Worker) -> None:
    # Daphne runs on Twisted, whose own SIGTERM handler stops the reactor at once, and Daphne
    # cancels every connection before it stops: ours replaces it once the reactor runs, drains
    # first, then stops the reactor.
    from twisted.internet import reactor

    def stop_after_drain():
        async def drain_then_stop():
            try:
                await worker.drain(engine_settings.ENGINE_DRAIN_SECONDS)
            finally:
                reactor.stop()

        asyncio.ensure_future(drain_then_stop())

    draining: list[int] = []  # the signal that started the drain, once

    def on_signal(signum, _frame):
        # Ctrl-C under `serve` brings SIGINT from the terminal and SIGTERM from the process
        # runner: drain once; the runner kills the worker if draining outlasts its patience.
        if not draining:
            draining.append(signum)
            reactor.callFromThread(stop_after_drain)

    def install():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    reactor.callWhenRunning(lambda: reactor.callLater(0, install))


__all__ = ["EngineBusy", "OwnerAtLimit", "Worker", "admits", "current", "start_worker"]
