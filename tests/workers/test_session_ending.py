"""What a draining worker uses to end its sessions: waiting for the live ones to go, and ending
those left with the reason (`SessionRegistry.wait_empty`, `end_all`)."""

import asyncio

from mrblue.engine.workers.live_sessions import SessionRegistry


async def test_waiting_for_no_session_returns_when_the_last_one_goes():
    registry = SessionRegistry()
    first, second = registry.admit(), registry.admit()
    waiting = asyncio.ensure_future(registry.wait_empty(30))
    first.release()
    await asyncio.sleep(0)
    assert not waiting.done()
    second.release()
    assert await waiting is True


async def test_waiting_gives_up_at_the_timeout_with_sessions_left():
    registry = SessionRegistry()
    registry.admit()
    assert await registry.wait_empty(0.05) is False


async def test_end_all_tells_every_session_why_it_ends():
    registry = SessionRegistry()
    told = []

    async def end(code, message):
        told.append((code, message))

    for _ in range(3):
        registry.admit().end = end
    registry.admit()  # a session not yet running: nothing to tell
    await registry.end_all("server_shutting_down", "bye")
    assert told == [("server_shutting_down", "bye")] * 3
