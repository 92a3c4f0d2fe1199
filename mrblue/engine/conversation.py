"""The conversation: its items in order, and the `conversation.item.*` events that report
changes to it (added, retrieved, deleted, transcribed, truncated to what was heard)."""

import copy

from mrblue.engine.events import ProtocolError, new_id, server_event
from mrblue.engine.items import public_item


class Conversation:
    """One session's items, oldest first, and how much audio each assistant item has."""

    def __init__(self):
        self.id = new_id("conv")
        self.items: list[dict] = []
        self.audio_ms: dict[str, float] = {}  # assistant item id -> audio produced
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
            position = self.items.index(self.find(previous_id)) + 1
        self.items.insert(position, item)
        previous = self.items[position - 1]["id"] if position > 0 else None
        shown = public_item(item)
        return [
            server_event("conversation.item.added", previous_item_id=previous, item=shown),
            server_event("conversation.item.done", previous_item_id=previous, item=shown),
        ]

    def create(self, item: dict, previous: str | None) -> list[dict]:
        """A client's `conversation.item.create`: `previous` is an item id, "root" (first)
        or None (last)."""
        if self.find(item["id"]) is not None:
            raise ProtocolError(
                "invalid_value", f"Item with id '{item['id']}' already exists.", "item.id"
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

    def append(self, item: dict) -> None:
        """Add a response's output item, announced by the response itself."""
        self.items.append(item)

    def announced(self, phase: str, item: dict) -> dict | None:
        """`conversation.item.<phase>` for an item of the conversation (None if not in it)."""
        if item not in self.items:
            return None
        position = self.items.index(item)
        previous = self.items[position - 1]["id"] if position > 0 else None
        return server_event(
            f"conversation.item.{phase}", previous_item_id=previous, item=copy.deepcopy(item)
        )

    def transcribed(self, item_id: str, text: str, seconds: float) -> list[dict]:
        """Store the words of a user audio item; the events that report them."""
        item = self.find(item_id)
        if item is not None:
            item["content"][0]["transcript"] = text
        ref = {"item_id": item_id, "content_index": 0}
        return [
            server_event("conversation.item.input_audio_transcription.delta", delta=text, **ref),
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
        self.audio_ms.pop(item_id, None)
        self.cut.discard(item_id)

    def was_cut(self, item_id: str) -> bool:
        """Whether an assistant item was truncated (a response still speaking it stops)."""
        return item_id in self.cut

    def add_audio(self, item_id: str, ms: float) -> None:
        """Count audio produced for an assistant item (what truncation may cut back to)."""
        self.audio_ms[item_id] = self.audio_ms.get(item_id, 0.0) + ms

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
        """Cut an assistant item to the audio the person actually heard (barge-in)."""
        item = self.find(item_id)
        if item is None or self.audio_ms.get(item_id, 0.0) <= played_ms:
            return []
        return self._truncate(item, 0, int(played_ms))

    def _truncate(self, item: dict, index: int, end_ms: int) -> list[dict]:
        produced = self.audio_ms.get(item["id"], 0.0)
        if end_ms < 0 or end_ms > produced:
            raise ProtocolError(
                "invalid_value",
                f"Audio content of {produced:.0f}ms is already shorter than {end_ms}ms",
                "audio_end_ms",
            )
        part = item["content"][index]
        # What was heard, approximately: the share of the transcript the audio covered.
        transcript = part.get("transcript") or ""
        keep = round(len(transcript) * end_ms / produced) if produced else 0
        heard = transcript[:keep]
        if keep < len(transcript) and not transcript[keep].isspace():
            heard = heard.rsplit(" ", 1)[0] if " " in heard else ""  # no half-heard word
        part["transcript"] = heard.rstrip()
        self.audio_ms[item["id"]] = float(end_ms)
        self.cut.add(item["id"])
        return [
            server_event(
                "conversation.item.truncated",
                item_id=item["id"],
                content_index=index,
                audio_end_ms=end_ms,
            )
        ]
