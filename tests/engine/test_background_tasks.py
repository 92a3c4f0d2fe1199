"""A connection's background work (a response, a playback note) may be cancelled before its
task takes its first step, as a response cancelled the moment it was created is: its work then
never ran, and is closed rather than left for Python to warn, when it is collected, that it was
never awaited (3.13 does, in the middle of another test)."""

import asyncio
import inspect

from mrblue.commands_brain.brain import CommandsBrain
from tests.engine.test_connection import connect


async def test_work_cancelled_before_it_started_is_closed():
    connection, _client = await connect(CommandsBrain())
    ran = []

    async def work():
        ran.append(True)

    coroutine = work()
    task = connection.background(coroutine, "a test's work")
    task.cancel()  # before the loop ran it
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled() and ran == []
    assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED
    await connection.shutdown()


async def test_work_that_ran_is_left_as_it_ended():
    connection, _client = await connect(CommandsBrain())

    async def work():
        return None

    coroutine = work()
    await connection.background(coroutine, "a test's work")
    assert (
        inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED
    )  # finished: closing is a no-op
    await connection.shutdown()
