"""The conversation: its items in order, and the `conversation.item.*` events that report
changes to it (added, retrieved, deleted, transcribed, truncated to what was heard).

What a session keeps is bounded (`MemoryLimits`): only the newest items keep their audio
(older ones keep their transcript), and past the item cap or the byte budget the oldest items
go, each announced with `conversation.item.deleted`, so a conversation of any length goes on
(as OpenAI's automatic truncation drops the oldest context); a single item larger than the
whole budget is refused with `session_memory_limit`.
"""

import copy
from dataclasses import dataclass

from mrblue.engine.engine_settings import declared_default
from mrblue.engine.protocol.events import ProtocolError, new_id, server_event
from mrblue.engine.protocol.items import drop_audio, has_audio, item_bytes, public_item, text_bytes
from mrblue.engine.protocol.spoken import SpokenAudio, heard_words, letters


@dataclass(frozen=True)
class MemoryLimits:
    """How much one session keeps (from the `MRBLUE_ENGINE_*` settings of the same names)."""

    max_items: int = declared_default("MRBLUE_ENGINE_MAX_ITEMS")
    audio_items: int = declared_default("MRBLUE_ENGINE_AUDIO_ITEMS")
    max_bytes: int = declared_default("MRBLUE_ENGINE_SESSION_BYTES")
    input_audio_seconds: int = declared_default("MRBLUE_ENGINE_INPUT_AUDIO_SECONDS")

    @classmethod
    def from_settings(cls, settings) -> "MemoryLimits":
        """The limits the engine's settings (`engine_settings`) give."""
        return cls(
            settings.ENGINE_MAX_ITEMS,
            settings.ENGINE_AUDIO_ITEMS,
            settings.ENGINE_SESSION_BYTES,
            settings.ENGINE_INPUT_AUDIO_SECONDS,
        )


class ConversationItems:
    """One session's items, oldest first, and how much audio each assistant item has."""

    def __init__(self, limits: MemoryLimits | None = None):
        self.id = new_id("conv")
        self.limits = limits or MemoryLimits()
        self.items: list[dict] = []
        self.spoken: dict[str, SpokenAudio] = {}  # assistant item id -> its audio
        self.cut: set[str] = set()  # assistant items truncated to what was heard

    def find(self, item_id) -> dict | None:
        """The item with this id, if any."""
        return next((item for item in self.items if item["id"] == item_id), None)

    def require(self, item_id: str) -> dict:
        """The item with this id; a client naming a missing one gets an error."""
        item = self.find(item_id)
        if item is None:
            raise ProtocolError(
                "invalid_value", f"Item with item_id '{item_id}' not found.", "item_id"
            )
        return item

    def last_id(self) -> str | None:
        """The id of the newest item."""
        return self.items[-1]["id"] if self.items else None

    def insert(self, item: dict, previous_id: str | None = None, at_start=False) -> list[dict]:
        """Put an item after `previous_id` (default: last), or first; announce it."""
        if at_start:
            position = 0
        elif previous_id is None:
            position = len(self.items)
        else:
            position = self.items.index(self.require(previous_id)) + 1
        self.items.insert(position, item)
        previous = self.items[position - 1]["id"] if position > 0 else None
        shown = public_item(item)
        return [
            server_event("conversation.item.added", previous_item_id=previous, item=shown),
            server_event("conversation.item.done", previous_item_id=previous, item=shown),
        ] + self.fit(item)

    def create(self, item: dict, previous: str | None) -> list[dict]:
        """A client's `conversation.item.create`: `previous` is an item id, "root" (first)
        or None (last)."""
        if self.find(item["id"]) is not None:
            raise ProtocolError(
                "invalid_value", f"Item with id '{item['id']}' already exists.", "item.id"
            )
        if text_bytes(item) > self.limits.max_bytes:
            raise ProtocolError(
                "session_memory_limit",
                f"This item is larger than the {self.limits.max_bytes} bytes of text a session "
                "keeps; send less.",
                "item",
            )
        if previous is None:
            previous = self.last_id()
        elif previous != "root" and self.find(previous) is None:
            raise ProtocolError(
                "invalid_value",
                f"Previous item with id '{previous}' does not exist.",
                "previous_item_id",
            )
        if previous == "root":
            return self.insert(item, at_start=True)
        return self.insert(item, previous)

    def retrieve(self, item_id: str) -> list[dict]:
        """`conversation.item.retrieved` for an item."""
        item = self.require(item_id)
        return [server_event("conversation.item.retrieved", item=copy.deepcopy(item))]

    def delete(self, item_id: str) -> list[dict]:
        """Remove an item."""
        item = self.require(item_id)
        self.items.remove(item)
        self._forget(item["id"])
        return [server_event("conversation.item.deleted", item_id=item["id"])]

    def append(self, item: dict) -> list[dict]:
        """Add a response's output item, announced by the response itself; the deletions
        that make room for it."""
        self.items.append(item)
        return self.fit(item)

    def fit(self, kept: dict) -> list[dict]:
        """Bring the conversation within its limits after `kept` was added or grew: old
        audio goes first, then the oldest items (never `kept`); the deletion events."""
        limits = self.limits
        with_audio = [item for item in self.items if has_audio(item)]
        for item in with_audio[: max(0, len(with_audio) - limits.audio_items)]:
            drop_audio(item)
        total = sum(item_bytes(item) for item in self.items)
        for item in with_audio:
            if total <= limits.max_bytes:
                break
            total -= drop_audio(item)
        events = []
        while self.items and (len(self.items) > limits.max_items or total > limits.max_bytes):
            oldest = next((item for item in self.items if item is not kept), None)
            if oldest is None:
                break
            total -= item_bytes(oldest)
            events += self.delete(oldest["id"])
        return events

    def grew(self, item_id: str) -> list[dict]:
        """An item got its words (a transcript, a closed answer): the deletions that keep
        the conversation within its limits."""
        item = self.find(item_id)
        return self.fit(item) if item is not None else []

    def announced(self, phase: str, item: dict) -> dict | None:
        """`conversation.item.<phase>` for an item of the conversation (None if not in it)."""
        if item not in self.items:
            return None
        position = self.items.index(item)
        previous = self.items[position - 1]["id"] if position > 0 else None
        return server_event(
            f"conversation.item.{phase}", previous_item_id=previous, item=copy.deepcopy(item)
        )

    def transcription_delta(self, item_id: str, delta: str) -> dict:
        """The event that adds words to a user audio item's transcript as it forms."""
        return server_event(
            "conversation.item.input_audio_transcription.delta",
            item_id=item_id,
            content_index=0,
            delta=delta,
        )

    def transcribed(
        self, item_id: str, text: str, seconds: float, delta: str | None = None
    ) -> list[dict]:
        """Store the words of a user audio item; the events that report them (`delta`: the
        words not yet sent as partial ones; default all of them)."""
        item = self.find(item_id)
        if item is not None:
            item["content"][0]["transcript"] = text
        ref = {"item_id": item_id, "content_index": 0}
        delta = text if delta is None else delta
        return [
            *([self.transcription_delta(item_id, delta)] if delta else []),
            server_event(
                "conversation.item.input_audio_transcription.completed",
                transcript=text,
                usage={"type": "duration", "seconds": round(seconds, 3)},
                **ref,
            ),
        ]

    def transcription_failed(self, item_id: str, message: str) -> list[dict]:
        """The event that reports a user audio item's words could not be recognized."""
        error = {
            "type": "server_error",
            "code": "transcription_failed",
            "message": message,
            "param": None,
        }
        return [
            server_event(
                "conversation.item.input_audio_transcription.failed",
                item_id=item_id,
                content_index=0,
                error=error,
            )
        ]

    def _forget(self, item_id: str) -> None:
        self.spoken.pop(item_id, None)
        self.cut.discard(item_id)

    def was_cut(self, item_id: str) -> bool:
        """Whether an assistant item was truncated (a response still speaking it stops)."""
        return item_id in self.cut

    def add_audio(self, item_id: str, ms: float) -> None:
        """Count audio produced for an assistant item (what truncation may cut back to)."""
        self._spoken(item_id).add_audio(ms)

    def clause_started(self, item_id: str, clause: str) -> None:
        """A clause of an assistant item's transcript goes to synthesis."""
        self._spoken(item_id).clause_started(clause)

    def clause_spoken(self, item_id: str) -> None:
        """The clause's audio is all produced."""
        self._spoken(item_id).clause_spoken()

    def _spoken(self, item_id: str) -> SpokenAudio:
        return self.spoken.setdefault(item_id, SpokenAudio())

    def truncate(self, item_id: str, index: int, end_ms: int) -> list[dict]:
        """A client's `conversation.item.truncate`: only an assistant's audio content."""
        item = self.require(item_id)
        content = item.get("content") or []
        if (
            item.get("role") != "assistant"
            or not 0 <= index < len(content)
            or content[index]["type"] != "output_audio"
        ):
            raise ProtocolError(
                "invalid_value",
                "Only the audio content of an assistant message can be truncated.",
                "content_index",
            )
        return self._truncate(item, index, end_ms)

    def cut_to_heard(self, item_id: str, played_ms: float) -> list[dict]:
        """Cut an assistant item to the audio the person actually heard (barge-in): also
        when all its audio so far was played but words remain that were never spoken."""
        item = self.find(item_id)
        spoken = self.spoken.get(item_id)
        if item is None or spoken is None:
            return []
        transcript = (item.get("content") or [{}])[0].get("transcript") or ""
        all_heard = spoken.heard(played_ms, transcript) >= letters(transcript)
        if spoken.audio_ms <= played_ms and all_heard:
            return []
        return self._truncate(item, 0, int(min(played_ms, spoken.audio_ms)))

    def _truncate(self, item: dict, index: int, end_ms: int) -> list[dict]:
        spoken = self._spoken(item["id"])
        if end_ms < 0 or end_ms > spoken.audio_ms:
            raise ProtocolError(
                "invalid_value",
                f"Audio content of {spoken.audio_ms:.0f}ms is already shorter than {end_ms}ms",
                "audio_end_ms",
            )
        part = item["content"][index]
        transcript = part.get("transcript") or ""
        heard = heard_words(transcript, spoken.heard(end_ms, transcript))
        part["transcript"] = heard
        spoken.cut(float(end_ms), letters(heard))
        self.cut.add(item["id"])
        return [
            server_event(
                "conversation.item.truncated",
                item_id=item["id"],
                content_index=index,
                audio_end_ms=end_ms,
            )
        ]
