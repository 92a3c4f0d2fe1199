"""A worker's heartbeat, in this process: ids unique per start, and a loop that does not run
(blocked without using CPU) makes the worker publish itself as not placeable and say `stuck`."""

import asyncio
import os
import re
import secrets
import socket
import threading
import time

import pytest

from mrblue.engine.workers import worker as worker_module
from mrblue.engine.workers.directory import WORKER_ID, DatabaseDirectory
from mrblue.engine.workers.worker import LoopWatch, Worker


@pytest.fixture
def loop():
    """An event loop running in a thread of its own, as Daphne's runs beside the heartbeat."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@pytest.fixture
def block(loop):
    """Return block(): it blocks `loop` without using CPU (as a deadlock would) until the event
    it returns is set (at the latest when the test ends)."""
    releases = []

    def block_loop() -> threading.Event:
        release, entered = threading.Event(), threading.Event()
        releases.append(release)

        def blocking():
            entered.set()
            release.wait(30)

        loop.call_soon_threadsafe(blocking)
        assert entered.wait(5)
        return release

    yield block_loop
    for release in releases:
        release.set()


def until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.01)


def test_worker_ids_are_unique_per_process_start():
    ids = {Worker("http://127.0.0.1:1").id for _ in range(50)}  # one host, one pid
    assert len(ids) == 50
    host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:24]
    for worker_id in ids:
        assert WORKER_ID.fullmatch(worker_id) and len(worker_id) <= 64
        assert worker_id.startswith(f"{host}-{os.getpid()}-")


def test_the_watch_sees_a_running_loop_and_a_blocked_one(loop, block):
    watch = LoopWatch()
    assert not watch.runs(limit=1.0)  # no loop known yet: not proven
    watch.watch(loop)
    assert watch.runs(limit=1.0)  # posts a no-op
    until(lambda: watch._posted is None)  # the loop ran it
    release = block()
    t0 = time.monotonic()
    assert watch.runs(limit=1.0, now=t0)  # posts another, which cannot run now
    assert watch.runs(limit=1.0, now=t0 + 0.9)  # a lag within the limit is no stall
    assert not watch.runs(limit=1.0, now=t0 + 1.1)
    release.set()
    until(lambda: watch.runs(limit=1.0))


def test_a_worker_whose_loop_is_stuck_publishes_itself_unplaceable(
    loop, block, db, settings, monkeypatch
):
    settings.MRBLUE_ENGINE_POOL = pool = "beat-" + secrets.token_hex(4)
    settings.REDIS_URL = ""
    settings.MRBLUE_ENGINE_HEARTBEAT_SECONDS = 0.05
    monkeypatch.setattr(worker_module, "MIN_STALL_SECONDS", 0.1)  # stuck after 0.15 s
    worker = Worker("http://127.0.0.1:1")
    worker.ready.set()
    worker.loop_watch.watch(loop)

    def published():
        worker.beat()
        (record,) = DatabaseDirectory(pool).live()
        return record

    assert published().placeable and worker.health()["status"] == "ok"
    release = block()
    first = published().beat
    time.sleep(0.2)  # the loop is blocked: the no-op posted at that beat cannot have run
    stuck = published()
    assert not stuck.responsive and not stuck.placeable and stuck.beat == first + 1
    assert worker.health()["status"] == "stuck"
    release.set()
    until(lambda: published().placeable)
    assert worker.health()["status"] == "ok"
