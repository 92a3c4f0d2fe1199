"""Group commit for the transcript log: the messages that arrive together share a transaction.

Every log socket of a process hands its validated messages to the one writer of its event loop.
While the writer's thread stores a batch, the messages arriving meanwhile queue up; they are
the next batch. Each sender waits until the transaction holding its message has committed, so
an acknowledgement still means "durable". One thread does the writing: the database gets one
writer per process (SQLite takes one at a time anyway), and no thread hop or connection set-up
is paid per message.

The writer keeps its one connection while messages keep coming, whatever `CONN_MAX_AGE` says
(0, the default, would set one up per batch: most of what a small batch costs), checks it
after a pause, drops it when a batch fails, and closes it after `IDLE_CLOSE_S` without
messages.
"""

import asyncio
import weakref
from concurrent.futures import ThreadPoolExecutor

from django.db import DEFAULT_DB_ALIAS, connections

from mrblue.conversation_log.store import LogError, store_many
from mrblue.models import Conversation

# The most messages in one transaction: a batch still commits in milliseconds.
MAX_BATCH = 256
# Seconds without a batch after which the connection is checked before use, and closed.
CHECK_AFTER_IDLE_S = 1.0
IDLE_CLOSE_S = 10.0
_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mrblue-log-writer")
_writers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop -> _Writer


async def store(conversation: Conversation, checked: dict) -> bool:
    """Store a validated message with whatever else is waiting; True once it is committed,
    False for a replay; raises its LogError, or the database's error for the whole batch."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = _Writer()
    result = await writer.submit(loop, conversation, checked)
    if isinstance(result, LogError):
        raise result
    return result


def close() -> None:
    """Close the writer's connection now (it reopens on the next message)."""
    _thread.submit(connections.close_all).result()


def _write(items: list, check: bool) -> list:
    connection = connections[DEFAULT_DB_ALIAS]
    if check and connection.connection is not None and not connection.is_usable():
        connection.close()  # e.g. the database restarted meanwhile: the batch gets a new one
    try:
        return store_many(items)
    except Exception:
        connection.close()  # whatever broke, the next batch starts on a new connection
        raise


class _Writer:
    """The queue of one event loop, drained by one task at a time."""

    def __init__(self):
        self.queue: list[tuple[Conversation, dict, asyncio.Future]] = []
        self.task: asyncio.Task | None = None
        self.last_batch_at = -CHECK_AFTER_IDLE_S
        self.closing: asyncio.TimerHandle | None = None

    def submit(self, loop, conversation: Conversation, checked: dict) -> asyncio.Future:
        """Queue a message; the future resolves to `store_many`'s result for it."""
        future = loop.create_future()
        self.queue.append((conversation, checked, future))
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._drain(loop))
        return future

    async def _drain(self, loop) -> None:
        if self.closing is not None:
            self.closing.cancel()
        while self.queue:
            batch, self.queue = self.queue[:MAX_BATCH], self.queue[MAX_BATCH:]
            items = [(conversation, checked) for conversation, checked, _ in batch]
            check = loop.time() - self.last_batch_at > CHECK_AFTER_IDLE_S
            try:
                results = await loop.run_in_executor(_thread, _write, items, check)
            except Exception as exc:  # the batch is not stored: each sender hears why
                results = [exc] * len(batch)
            self.last_batch_at = loop.time()
            for (_, _, future), result in zip(batch, results, strict=True):
                if future.done():  # its socket closed meanwhile; it resends after a reconnect
                    continue
                if isinstance(result, Exception) and not isinstance(result, LogError):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        self.closing = loop.call_later(IDLE_CLOSE_S, self._close_idle, loop)

    def _close_idle(self, loop) -> asyncio.Future:
        return loop.run_in_executor(_thread, connections.close_all)
