"""A worker thread shared fairly by the sessions of one process.

Recognition and synthesis are CPU-bound and run one job at a time (two at once would only
share the same cores more slowly). A plain FIFO executor serves whoever asks most: a session
that appends a minute of audio in one second, or commits ten times, would push every other
session's turn behind its backlog. `FairWorker` keeps one queue per session and takes the next
job round-robin over the sessions that wait, urgent jobs (a turn's transcript, the words being
spoken) before background ones (partial transcripts). A background job is "latest wins": a
session's newer one replaces the one still queued, since only the newest hypothesis matters.

Jobs are submitted from the event loop and awaited there (`run`); the thread never touches
the loop but through `call_soon_threadsafe`.
"""

import asyncio
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future

URGENT, BACKGROUND = 0, 1
SUPERSEDED = object()  # what a background job replaced by a newer one returns


class QueueFull(Exception):
    """A session already has as many jobs waiting as it may."""


class FairWorker:
    """One worker thread; per-session queues served round-robin, urgent jobs first."""

    def __init__(self, name: str, max_queued: Callable[[], int] = lambda: 8):
        self.name = name
        self._max_queued = max_queued  # urgent jobs one session may have waiting (read per job)
        self._ready = threading.Condition()
        # priority -> session -> its waiting jobs; dict order is the round-robin order.
        self._queues: tuple[OrderedDict, OrderedDict] = (OrderedDict(), OrderedDict())
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.busy_with: Hashable | None = None  # the session whose job runs now

    def submit(self, session: Hashable, fn: Callable, *args, priority: int = URGENT) -> Future:
        """Queue `fn(*args)` for `session`; a `Future` of its result (cancel it to drop the job
        if it has not started; a replaced background job's is `SUPERSEDED`). Raises `QueueFull`
        past `max_queued` urgent jobs."""
        future: Future = Future()
        with self._ready:
            queues = self._queues[priority]
            waiting = queues.setdefault(session, deque())
            if priority == BACKGROUND:
                for _, _, older in waiting:
                    if not older.done():
                        older.set_result(SUPERSEDED)  # latest wins
                waiting.clear()
            elif sum(not job[2].done() for job in waiting) >= (limit := self._max_queued()):
                if not waiting:
                    del queues[session]
                raise QueueFull(f"{limit} {self.name} jobs are already waiting")
            waiting.append((fn, args, future))
            self._start_thread()
            self._ready.notify()
        return future

    async def run(self, session: Hashable, fn: Callable, *args, priority: int = URGENT):
        """`submit`, awaited on the event loop (cancelling the wait drops a job not started)."""
        return await asyncio.wrap_future(self.submit(session, fn, *args, priority=priority))

    def waiting(self, session: Hashable | None = None) -> int:
        """Jobs waiting (of one session, or of all), not counting the one running."""
        with self._ready:
            return sum(
                sum(not job[2].done() for job in jobs)
                for queues in self._queues
                for owner, jobs in queues.items()
                if session is None or owner == session
            )

    def _start_thread(self) -> None:
        if self._thread is None:
            # Not a daemon: at exit the job running finishes first (a model half loaded in
            # native code when the interpreter goes hangs the exit); waiting ones are dropped.
            self._thread = threading.Thread(target=self._serve, name=f"mrblue-{self.name}")
            threading._register_atexit(self.stop)  # type: ignore[attr-defined]  # as concurrent.futures does
            self._thread.start()

    def stop(self) -> None:
        """Run no more jobs (the process is exiting): the waiting ones are cancelled."""
        with self._ready:
            self._stopping = True
            for queues in self._queues:
                for jobs in queues.values():
                    for _, _, future in jobs:
                        future.cancel()
                queues.clear()
            self._ready.notify_all()

    def _next(self):
        """The next job to run (called with the lock held), or None when none waits."""
        for queues in self._queues:
            while queues:
                session, jobs = next(iter(queues.items()))
                job = jobs.popleft()
                if jobs:
                    queues.move_to_end(session)  # its other jobs wait for the others' turn
                else:
                    del queues[session]
                if not job[2].done() and job[2].set_running_or_notify_cancel():
                    return session, job
        return None

    def _serve(self) -> None:
        while True:
            with self._ready:
                picked = self._next()
                while picked is None:
                    if self._stopping:
                        return
                    self._ready.wait()
                    picked = self._next()
                self.busy_with = picked[0]
            fn, args, future = picked[1]
            try:
                future.set_result(fn(*args))
            except BaseException as error:  # handed to the awaiting session
                future.set_exception(error)
            finally:
                self.busy_with = None
