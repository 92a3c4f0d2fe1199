"""Brains for tests: ones that hang until cancelled, fail, crash, are unsure, or talk long."""

import asyncio

from mrblue.commands_brain.brain import CommandsBrain
from mrblue.engine.brains import BrainError, Decision, TextDelta
from mrblue.engine.protocol.items import item_text

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


class GuessingBrain(CommandsBrain):
    """The `commands` brain, but unsure of every new request: it asks whether the heading
    should be blue, as the real one asks about what it may have misheard (with the account
    of its guess in `response.done`), and answers "yes" or "no" as the real one does."""

    GUESS = "make the heading blue"

    async def respond(self, request):
        said = [item for item in request.conversation if item.get("role") == "user"]
        if said and item_text(said[-1]).lower().rstrip(".!") in ("yes", "no"):
            async for output in super().respond(request):
                yield output
            return
        heard = item_text(said[-1]) if said else ""
        yield Decision({"heard": heard, "candidates": [], "chosen": self.GUESS, "outcome": "ask"})
        yield TextDelta(f"Did you mean: {self.GUESS}?")


class TalkativeBrain:
    """Answers everything with the same long explanation (about 30 s spoken), sentence by
    sentence: the voice benchmark listens for false barge-ins while Mr. Blue talks."""

    SENTENCES = (
        "Here is how the page is put together, from the top down.",
        "At the very top there is a heading with the name of the shop, set in a large font.",
        "Below it comes a short introduction of two sentences about the opening hours.",
        "Then there is a picture of the front door, with a caption that gives the address.",
        "After the picture you will find three columns, one for each kind of product.",
        "Each column has a small title, a few lines of text, and a link to read more.",
        "Further down there is a form where visitors can leave their name and a message.",
        "The footer at the bottom holds the phone number and a short note on privacy.",
        "If you would like to change any of these parts, just tell me which one.",
    )

    async def respond(self, request):
        for sentence in self.SENTENCES:
            yield TextDelta(sentence + " ")
