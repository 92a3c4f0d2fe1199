"""Brains for tests: ones that hang until cancelled, fail, or crash."""

import asyncio

from mrblue.engine.brains import BrainError, TextDelta

CANCELLED = []


class HangingBrain:
    """Says a few words, then waits until its response is cancelled."""

    async def respond(self, request):
        yield TextDelta("Let me think about that. ")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            CANCELLED.append(request.response_id)
            raise


class FailingBrain:
    """Fails the way an unreachable brain server does."""

    async def respond(self, request):
        yield TextDelta("Half an answer")
        raise BrainError("brain_timeout", "The brain server did not answer in time.")


class CrashingBrain:
    """Has a bug."""

    async def respond(self, request):
        raise ZeroDivisionError("oops")
        yield  # pragma: no cover  (makes this an async generator)
