"""What editors ask Mr. Blue and how it went: requests, their outcomes, the frequent ones.

Pure: it judges readings handed to it (a conversation's transcript lines and the edits its tool
calls made, `insight_store` reads them) and returns numbers and lists; the admin and the
editor show them.

A request is what the editor said or typed, and the answer is everything Mr. Blue said until
the editor spoke again. Its outcome, first that applies:

- `undone`: it changed the page, and the change was undone within `UNDO_WINDOW` (Mr. Blue got
  it wrong, as the editor saw it);
- `changed`: it changed the page;
- `refused`: the answer says Mr. Blue can't or couldn't (`REFUSAL_WORDS`);
- `asked`: the answer ends in a question (which block? which colour?);
- `answered`: anything else (a greeting, a description of the page).

The admin's outcome filter asks the database the same questions (`insight_store`), with the
same words and window, per conversation.
"""

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

UNDO_WINDOW = timedelta(minutes=1)
# Lower-case pieces of an answer that says no: the commands brain's ("Sorry, I can't help with
# that offline", "I couldn't do that: ...", "That's too long for me to follow") and a
# language model's ("I'm unable to", "I cannot"), with both apostrophes.
REFUSAL_WORDS = (
    "sorry",
    "can't",
    "can’t",
    "cannot",
    "couldn't",
    "couldn’t",
    "unable to",
    "not able to",
    "don't let me",
    "too long for me",
)
QUESTION = r"\?\s*$"  # Python's re and PostgreSQL's regex read it alike
OUTCOMES = {
    "undone": "a change undone within a minute",
    "changed": "changed the page",
    "refused": "Mr. Blue refused",
    "asked": "Mr. Blue asked back",
    "answered": "answered without a change",
}
FIRST_WORDS = 8
_PUNCTUATION = re.compile(r"[^\w\s']+")
_FILLER = re.compile(r"^(?:(?:hey|hi|ok|okay|so|please|mr blue|mister blue|can you|could you)\s+)+")


def is_refusal(answer: str) -> bool:
    """Does the answer say Mr. Blue can't (or couldn't) do it?"""
    lowered = answer.lower()
    return any(words in lowered for words in REFUSAL_WORDS)


def is_question(answer: str) -> bool:
    """Does the answer end in a question?"""
    return re.search(QUESTION, answer) is not None


@dataclass(frozen=True)
class Line:
    """One transcript entry: who said it, the words, its log `seq`."""

    role: str
    text: str
    seq: int


@dataclass(frozen=True)
class Edit:
    """A page change one of the conversation's tool calls made: the call's log `seq`, the
    revision's note, when it was made and (if so) undone."""

    seq: int
    note: str
    made_at: datetime
    undone_at: datetime | None = None

    @property
    def undone_quickly(self) -> bool:
        """Undone within `UNDO_WINDOW` of being made."""
        return self.undone_at is not None and self.undone_at - self.made_at <= UNDO_WINDOW


@dataclass
class Request:
    """What the editor asked, what Mr. Blue answered, and the edits it made."""

    conversation_id: int
    said: str
    answer: str = ""
    seq: int = 0
    edits: list[Edit] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """One of `OUTCOMES` (see the module's docstring)."""
        if any(edit.undone_quickly for edit in self.edits):
            return "undone"
        if self.edits:
            return "changed"
        if is_refusal(self.answer):
            return "refused"
        if is_question(self.answer):
            return "asked"
        return "answered"


def requests_of(conversation_id: int, lines: list[Line], edits: list[Edit]) -> list[Request]:
    """The conversation's requests, in order (`lines` in transcript order); each edit goes to
    the last request said before its tool call (by `seq`), else to the first."""
    requests: list[Request] = []
    for line in lines:
        if line.role == "user":
            requests.append(Request(conversation_id, line.text, seq=line.seq))
        elif requests:
            requests[-1].answer = f"{requests[-1].answer} {line.text}".strip()
    for edit in edits:
        before = [r for r in requests if r.seq <= edit.seq]
        target = before[-1] if before else (requests[0] if requests else None)
        if target is not None:
            target.edits.append(edit)
    return requests


def normalized(text: str) -> str:
    """A request's words for counting: lower case, no punctuation, no "please" or "hey"."""
    words = " ".join(_PUNCTUATION.sub(" ", text.lower()).split())
    return _FILLER.sub("", words).strip()


def most_frequent(requests: list[Request], limit: int = 5) -> list[tuple[str, int]]:
    """The requests asked most often (same words, give or take case, punctuation and
    fillers), as (the latest wording, times), most often first."""
    counts: Counter = Counter()
    wording: dict[str, str] = {}
    for request in requests:
        key = normalized(request.said)
        if key:
            counts[key] += 1
            wording[key] = request.said.strip()
    return [(wording[key], count) for key, count in counts.most_common(limit)]


def first_words(text: str, count: int = FIRST_WORDS) -> str:
    """The first `count` words of `text`, with an ellipsis when there are more."""
    words = text.split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")


@dataclass
class PageInsight:
    """How editors use Mr. Blue on a page, over its latest conversations."""

    conversations: int
    editors: int
    requests: list[Request]
    frequent: list[tuple[str, int]]
    median_answer_ms: float | None
    timed_turns: int
    since: datetime | None

    def with_outcome(self, outcome: str) -> list[Request]:
        """The requests of one outcome, latest first."""
        return [r for r in reversed(self.requests) if r.outcome == outcome]

    def count(self, outcome: str) -> int:
        """How many requests had that outcome."""
        return sum(r.outcome == outcome for r in self.requests)


def page_insight(
    conversations: list[tuple[int, int, datetime]],
    requests: list[Request],
    answer_ms: list[int],
) -> PageInsight:
    """The insight of a page from its conversations (id, user id, start), their requests (in
    order) and the answer latency of each timed turn (ms from the end of speech)."""
    return PageInsight(
        conversations=len(conversations),
        editors=len({user for _, user, _ in conversations}),
        requests=requests,
        frequent=most_frequent(requests),
        median_answer_ms=statistics.median(answer_ms) if answer_ms else None,
        timed_turns=len(answer_ms),
        since=min((started for _, _, started in conversations), default=None),
    )


@dataclass(frozen=True)
class Summary:
    """One conversation at a glance: its first words, length and the edits it made."""

    first_words: str
    turns: int
    seconds: int | None
    edits: int
    undone: int


def summarize(
    lines: list[Line], edits: list[Edit], started: datetime, ended: datetime | None
) -> Summary:
    """The summary of a conversation from its transcript (in order), edits and times."""
    said = [line.text for line in lines if line.role == "user" and line.text.strip()]
    return Summary(
        first_words=first_words(said[0]) if said else "",
        turns=len(said),
        seconds=None if ended is None else max(0, int((ended - started).total_seconds())),
        edits=len(edits),
        undone=sum(edit.undone_at is not None for edit in edits),
    )
