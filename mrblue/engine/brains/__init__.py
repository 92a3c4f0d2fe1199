"""Brains: what writes Mr. Blue's answers in the built-in engine.

A brain takes a `ResponseRequest` (instructions, tools, the conversation) and yields
`TextDelta`s and `FunctionCall`s (and may yield a `Decision`, the account of how it read the
request). Choose one with `MRBLUE_ENGINE_BRAIN`: a dotted path to a
class, or a short name registered with `register_brain` (the engine registers
`openai_compatible`; the app registers its own, such as `commands`, when it starts).
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from django.utils.module_loading import import_string

from mrblue.engine.protocol.responses import ResponseRequest
from mrblue.shared.errors import CodedError

BRAINS = {
    "openai_compatible": "mrblue.engine.brains.openai_compatible.OpenAICompatibleBrain",
}


@dataclass
class TextDelta:
    """A piece of the assistant's answer."""

    text: str


@dataclass
class FunctionCall:
    """A call of one of the session's tools, with JSON-encoded arguments."""

    name: str
    arguments: str
    call_id: str | None = None


@dataclass
class Decision:
    """How the brain read the request (what was heard, the readings it weighed and their
    scores, the one it chose, what it did): not said, but reported in `response.done`'s
    metadata as `mrblue_decision` (JSON), which the panel logs for the admin."""

    record: dict


class BrainError(CodedError):
    """The brain could not answer (its server failed, timed out or answered nonsense)."""


class Brain(Protocol):
    """The interface every brain implements."""

    def respond(self, request: ResponseRequest) -> AsyncIterator[TextDelta | FunctionCall]:
        """Yield the answer to `request`; stop promptly when the task is cancelled."""


def register_brain(name: str, dotted_path: str) -> None:
    """Make `name` a short name for the brain class at `dotted_path`."""
    BRAINS[name] = dotted_path


def load_brain(name: str) -> Brain:
    """Instantiate the brain named by a short name or a dotted path."""
    return import_string(BRAINS.get(name, name))()
