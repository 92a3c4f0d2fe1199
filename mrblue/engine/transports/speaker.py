"""The words of a response on their way to speech: cut into sentences or clauses as the
brain writes them, each synthesized and sent in order by one task while the brain goes on
(`Speaker`). What speaks a piece is the connection's `speak` (synthesis, then the track or
the WebSocket)."""

import asyncio
import re
from typing import TYPE_CHECKING

from mrblue.engine.engine_settings import engine_settings
from mrblue.engine.protocol.core import ResponseRequest

if TYPE_CHECKING:
    from mrblue.engine.transports.connection import EngineConnection

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
CLAUSE_END = re.compile(r"(?<=[,;:])\s+|(?<=\s[—–-])\s+")
MIN_CLAUSE_WORDS = 2  # "Sure," alone is not worth a piece of its own
MAX_PHRASE_CHARS = 400  # words without a sentence end are spoken in pieces of at most this


def split_sentences(text: str) -> tuple[list[str], str]:
    """Complete sentences of `text`, and the unfinished rest. A stretch without a sentence
    end is cut at a space into phrases of at most `MAX_PHRASE_CHARS`, so that what waits to
    be spoken stays short (and rescanning it on every delta stays cheap)."""
    parts = SENTENCE_END.split(text)
    sentences = []
    for part in parts[:-1]:
        sentences += _phrases(part)
    *whole, rest = _phrases(parts[-1])
    return [s for s in sentences + whole if s.strip()], rest


def split_clauses(text: str) -> tuple[list[str], str]:
    """Like `split_sentences`, but also cut at clause ends (a comma, semicolon, colon or
    dash before a space) once a clause has `MIN_CLAUSE_WORDS`: the first words can be spoken
    while the rest of the sentence is still being written or synthesized."""
    sentences, rest = split_sentences(text)
    pieces = [piece for sentence in sentences for piece in _clauses(sentence) if piece.strip()]
    *whole, rest = _clauses(rest)
    return pieces + [piece for piece in whole if piece.strip()], rest


def _clauses(text: str) -> list[str]:
    """`text` cut after its clause ends; the last piece is what follows the last one."""
    parts = CLAUSE_END.split(text)
    pieces, current = [], ""
    for part in parts[:-1]:
        current = f"{current} {part}" if current else part
        if len(current.split()) >= MIN_CLAUSE_WORDS:
            pieces.append(current)
            current = ""
    pieces.append(f"{current} {parts[-1]}" if current else parts[-1])
    return pieces


def _phrases(text: str) -> list[str]:
    """`text` cut at spaces into pieces of at most `MAX_PHRASE_CHARS` (or at that length, if
    a piece has no space); the last piece is what remains."""
    pieces, start = [], 0
    while len(text) - start > MAX_PHRASE_CHARS:
        end = start + MAX_PHRASE_CHARS
        space = text.rfind(" ", start + 1, end + 1)
        cut = space if space > start else end
        pieces.append(text[start:cut])
        start = cut + 1 if cut == space else cut
    pieces.append(text[start:])
    return pieces


class Speaker:
    """The words of one response on their way to speech: cut into clauses as they arrive,
    each synthesized and sent in order by one task while the brain goes on writing (with
    `MRBLUE_TTS_STREAMING` off: whole sentences, each spoken before the brain is read on)."""

    def __init__(self, connection: "EngineConnection", request: ResponseRequest):
        self.connection = connection
        self.request = request
        self.streaming = engine_settings.TTS_STREAMING
        self._unspoken = ""
        self._pieces: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None

    async def say(self, text: str) -> None:
        """More words of the answer."""
        split = split_clauses if self.streaming else split_sentences
        pieces, self._unspoken = split(self._unspoken + text)
        for piece in pieces:
            await self._speak(piece)

    async def finish(self) -> None:
        """The brain is done: speak what is left and wait until all of it is sent."""
        if self._unspoken.strip():
            await self._speak(self._unspoken)
        self._unspoken = ""
        if self._task is not None:
            self._pieces.put_nowait(None)
            await self._task

    async def flush(self) -> None:
        """Speak the words so far to their end, then take more: a tool call comes next, and
        the words' audio belongs to their own item, before the call's."""
        await self.finish()
        self._task = None

    def stop(self) -> None:
        """The response ended (or was cancelled): speak no more of it."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _speak(self, piece: str) -> None:
        if not self.streaming:
            await self.connection.speak(self.request, piece)
            return
        self._pieces.put_nowait(piece)
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while (piece := await self._pieces.get()) is not None:
            await self.connection.speak(self.request, piece)
