"""Group commit for the transcript log: the messages that arrive together share a transaction.

Every log socket of a process hands its validated messages to the one writer of its event loop.
While the writer's thread stores a batch, the messages arriving meanwhile queue up; they are
the next batch. Each sender waits until the transaction holding its message has committed, so
an acknowledgement still means "durable". One thread does the writing: the database gets one
writer per process (SQLite takes one at a time anyway), and no thread hop or connection set-up
is paid per message.
"""

import asyncio
import weakref
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections

from mrblue.models import Conversation
from mrblue.transcript_log import LogError, store_many

# The most messages in one transaction: a batch still commits in milliseconds.
MAX_BATCH = 256
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


def _write(items: list) -> list:
    # As Channels' database_sync_to_async does: honour CONN_MAX_AGE, drop broken connections.
    close_old_connections()
    try:
        return store_many(items)
    finally:
        close_old_connections()


class _Writer:
    """The queue of one event loop, drained by one task at a time."""

    def __init__(self):
        self.queue: list[tuple[Conversation, dict, asyncio.Future]] = []
        self.task: asyncio.Task | None = None

    def submit(self, loop, conversation: Conversation, checked: dict) -> asyncio.Future:
        """Queue a message; the future resolves to `store_many`'s result for it."""
        future = loop.create_future()
        self.queue.append((conversation, checked, future))
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._drain(loop))
        return future

    async def _drain(self, loop) -> None:
        while self.queue:
            batch, self.queue = self.queue[:MAX_BATCH], self.queue[MAX_BATCH:]
            items = [(conversation, checked) for conversation, checked, _ in batch]
            try:
                results = await loop.run_in_executor(_thread, _write, items)
            except Exception as exc:  # the batch is not stored: each sender hears why
                results = [exc] * len(batch)
            for (_, _, future), result in zip(batch, results, strict=True):
                if future.done():  # its socket closed meanwhile; it resends after a reconnect
                    continue
                if isinstance(result, Exception) and not isinstance(result, LogError):
                    future.set_exception(result)
                else:
                    future.set_result(result)
