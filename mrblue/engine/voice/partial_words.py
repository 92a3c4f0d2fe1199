"""What to say of a person's words while they are still speaking, with no I/O.

Recognition runs at pauses (and every so often during long stretches of speech) on the audio
so far; each result is a hypothesis of the whole utterance. The protocol's
`conversation.item.input_audio_transcription.delta` events only append, so `Words` sends the
words a hypothesis adds to what was already sent, and nothing when a hypothesis disagrees with
it (the `completed` event's transcript then replaces the partial words, as clients show it).
"""

import re
from dataclasses import dataclass

_WORD = re.compile(r"[\w']+")
_CLOSING = ".!?…"


def _normal(words: list[str]) -> list[str]:
    return ["".join(_WORD.findall(word.lower())) for word in words]


def added_words(sent: str, hypothesis: str) -> str | None:
    """The text to append to `sent` so it reads as `hypothesis` (a partial: the closing
    punctuation Whisper puts on whatever it hears is left off), or None when `hypothesis` does
    not begin with `sent` (compared word by word, ignoring case and punctuation)."""
    old, new = sent.split(), hypothesis.split()
    if len(new) < len(old) or _normal(new[: len(old)]) != _normal(old):
        return None
    rest = new[len(old) :]
    if not rest:
        return ""
    rest[-1] = rest[-1].rstrip(_CLOSING) or rest[-1]
    return (" " if old else "") + " ".join(rest)


def final_delta(sent: str, transcript: str) -> str:
    """The last delta before `completed`: the transcript's words not sent yet ("" when the
    partial words and the transcript disagree: `completed` replaces them)."""
    old, new = sent.split(), transcript.split()
    if len(new) < len(old) or _normal(new[: len(old)]) != _normal(old):
        return ""
    rest = " ".join(new[len(old) :])
    return " " + rest if old and rest else rest


@dataclass
class Words:
    """The partial words sent for the utterance now being spoken (one per speech item)."""

    item_id: str | None = None
    sent: str = ""
    heard_until_ms: float = -1.0  # audio end of the newest hypothesis applied
    done: bool = False  # the transcript is final: no more partials

    def begin(self, item_id: str) -> None:
        """A new utterance (speech started): nothing sent for it yet."""
        self.item_id, self.sent, self.heard_until_ms, self.done = item_id, "", -1.0, False

    def hypothesis(self, item_id: str, text: str, until_ms: float) -> str | None:
        """A recognition of `item_id`'s audio up to `until_ms` finished: the delta to send, or
        None (another utterance's, older than one applied, after the final, or disagreeing)."""
        if item_id != self.item_id or self.done or until_ms <= self.heard_until_ms:
            return None
        delta = added_words(self.sent, text)
        if not delta:
            return None
        self.sent += delta
        self.heard_until_ms = until_ms
        return delta

    def final(self, item_id: str, transcript: str) -> tuple[str, str]:
        """The transcript of `item_id` is known: (what was sent of it, the last delta)."""
        if item_id != self.item_id:
            return "", transcript
        self.done = True
        return self.sent, final_delta(self.sent, transcript)
