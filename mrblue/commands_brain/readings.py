"""Readings of a request the grammar cannot read as heard: what it may have been, and which
of those the audio supports.

tiny.en mishears the words it does not expect: "bottom" as "volume", "undo" as "and you",
"background" as "back drum". On a page, the sensible requests are few: its blocks, what the
grammar can do to them, the colours. `candidates()` shortlists the readings closest to the
transcript, in spelling and in sound: the transcript with one or two of its words swapped for
known words that are close to them (or two words for one: "and you" → "undo"), and the
page's own requests in their plainest words ("move the button to the bottom"); each is kept
only if the grammar reads it and it names blocks the page has. `choose()` then lets the audio
decide (a `rescoring.Scorer`: Whisper's decoder forced through each sentence), with the
transcript itself as the yardstick: a reading the audio supports nearly as well as what was
heard, and clearly better than any reading that means something else, is done; a plausible
one is asked about ("Did you mean: ...?"); else Mr. Blue says what it heard. Without audio
(typed text) the closest reading is asked about, never done.
"""

import itertools
from dataclasses import dataclass, field
from functools import lru_cache

import jellyfish
from rapidfuzz import fuzz

from mrblue.commands_brain.intents import COLOR_NAMES, VOCABULARY, Intent, normalize, parse_as_heard
from mrblue.commands_brain.matcher import correct
from mrblue.commands_brain.references import SPOKEN_ORDINALS, matches

SHORTLIST = 4  # readings scored besides the transcript (each costs a decoder pass)
MAX_EDITS = 2  # words of the transcript one reading may change
WORD_ALTERNATIVES = 6  # known words tried in place of each heard word
WORD_CLOSENESS = 50  # (0-100) how close a known word must be to stand in for a heard one
TEXT_CLOSENESS = 55  # how close a reading must be to the transcript to be asked about, typed
MAX_WORDS = 14  # longer transcripts are dictation: not rescored word by word
# Log-probability (nats) margins, set on the understanding benchmark's nine voices: the best
# reading is done at once when the audio supports it within ACT_GAP of what was heard, ACT_MARGIN
# better than any reading meaning something else, and it is close to what was heard (the
# wrong readings done were all further than ACT_CLOSENESS); it is asked about within ASK_GAP
# if it is at least ASK_CLOSENESS close (further ones were mostly wrong guesses).
ACT_GAP = 3.5
ACT_MARGIN = 4.0
ACT_CLOSENESS = 70
ASK_GAP = 15.0
ASK_CLOSENESS = 55
# New words for the page are read back when the audio gives their tokens less than this
# (geometric mean): it catches some mishearings ("hello, winas, iris"), not homophones ("by
# tickets" for "Buy tickets"), which the audio supports as well as the words said.
READ_BACK = 0.45
MAX_RECORD_CHARS = 200  # of each sentence in a decision's record


@dataclass
class Reading:
    """A sentence the request may have been, what it means, and how it fits."""

    sentence: str
    intent: Intent
    meaning: tuple
    closeness: float  # to the transcript, in spelling and sound (0-100)
    logprob: float | None = None  # how well the audio supports it (None: not scored)


@dataclass
class Choice:
    """What `choose` made of a request: `outcome` is "act", "ask" or "unknown"."""

    heard: str
    outcome: str
    chosen: Reading | None = None
    readings: list[Reading] = field(default_factory=list)
    heard_logprob: float | None = None
    seconds: float = 0.0  # spent scoring

    def record(self) -> dict:
        """The decision as plain data (for logs and the admin): transcript, candidates and
        their scores, the chosen one and what was done."""
        return {
            "heard": self.heard[:MAX_RECORD_CHARS],
            "heard_logprob": _rounded(self.heard_logprob),
            "candidates": [
                {
                    "sentence": r.sentence[:MAX_RECORD_CHARS],
                    "closeness": round(r.closeness, 1),
                    "logprob": _rounded(r.logprob),
                }
                for r in self.readings
            ],
            "chosen": self.chosen.sentence[:MAX_RECORD_CHARS] if self.chosen else None,
            "outcome": self.outcome,
            "scoring_ms": round(self.seconds * 1000, 1),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def choose(heard: str, blocks: list, selected: str | None, known: frozenset, scorer=None):
    """The `Choice` among the readings of `heard` on a page of `blocks`, the audio deciding
    when there is a `scorer` (`rescoring.Scorer`)."""
    readings = candidates(heard, blocks, selected, known)
    if not readings:
        return Choice(heard, "unknown")
    if scorer is None:
        best = readings[0]
        outcome = "ask" if best.closeness >= TEXT_CLOSENESS else "unknown"
        return Choice(heard, outcome, best if outcome == "ask" else None, readings)
    seconds = scorer.seconds
    scores = scorer.score([heard, *(r.sentence for r in readings)])
    for reading, score in zip(readings, scores[1:], strict=True):
        reading.logprob = score.logprob
    ranked = sorted(readings, key=lambda r: (-r.logprob, -r.closeness))
    best = ranked[0]
    rival = next((r for r in ranked[1:] if r.meaning != best.meaning), None)
    gap = scores[0].logprob - best.logprob
    margin = best.logprob - rival.logprob if rival else float("inf")
    if gap <= ACT_GAP and margin >= ACT_MARGIN and best.closeness >= ACT_CLOSENESS:
        outcome = "act"
    elif gap <= ASK_GAP and best.closeness >= ASK_CLOSENESS:
        outcome = "ask"
    else:
        outcome = "unknown"
    return Choice(
        heard,
        outcome,
        best if outcome != "unknown" else None,
        ranked,
        scores[0].logprob,
        scorer.seconds - seconds,
    )


def support(sentence: str, text: str, scorer) -> float:
    """How sure the audio is of `text` (new words for the page, as they appear in
    `sentence`): below `READ_BACK`, they are read back before they are written."""
    return scorer.score([sentence])[0].support(text)


# --- the shortlist ----------------------------------------------------------------------


def candidates(heard: str, blocks: list, selected: str | None, known: frozenset) -> list:
    """The readings of `heard` that make sense on this page, closest first (at most
    `SHORTLIST`, one per meaning)."""
    text = normalize(heard)
    words = text.split(" ")
    if not text or len(words) > MAX_WORDS:
        return []
    vocabulary = tuple(sorted(w for w in VOCABULARY | known | set(COLOR_NAMES) if len(w) > 1))
    sentences = set(_edits(words, vocabulary)) | set(page_requests(blocks))
    sentences.add(correct(text, VOCABULARY | known))
    best: dict[tuple, Reading] = {}
    for sentence in sentences:
        reading = _reading(sentence, text, blocks, selected)
        if reading is not None and (
            reading.meaning not in best or reading.closeness > best[reading.meaning].closeness
        ):
            best[reading.meaning] = reading
    return sorted(best.values(), key=lambda r: (-r.closeness, r.sentence))[:SHORTLIST]


def _reading(sentence: str, heard: str, blocks: list, selected: str | None) -> Reading | None:
    """The reading of `sentence`, if the grammar reads it and the blocks it names exist."""
    intent = parse_as_heard(sentence)
    if intent is None or intent.name in ("greet", "thanks", "capabilities"):
        return None
    meaning = [intent.name]
    for slot, value in sorted(intent.slots.items()):
        if slot in ("target", "anchor") and value is not None:
            found = matches(value, blocks, selected)
            if not found:
                return None
            value = tuple(b.get("id") for b in found)
        meaning.append((slot, repr(value)))
    return Reading(sentence, intent, tuple(meaning), closeness(heard, sentence))


def closeness(heard: str, sentence: str) -> float:
    """How alike two sentences are (0-100): spelled, and as they sound (Metaphone codes)."""
    return (fuzz.ratio(heard, sentence) + fuzz.ratio(_sounds(heard), _sounds(sentence))) / 2


@lru_cache(maxsize=8192)
def _sound(word: str) -> str:
    return jellyfish.metaphone(word) if word.isalpha() else word


def _sounds(text: str) -> str:
    return " ".join(_sound(word) for word in text.split(" "))


def _word_closeness(heard: str, known: str) -> float:
    return (fuzz.ratio(heard, known) + fuzz.ratio(_sound(heard), _sound(known))) / 2


def _alternatives(word: str, vocabulary: tuple) -> list[str]:
    """The known words closest to a heard word (or to two heard words run together)."""
    scored = [(_word_closeness(word, known), known) for known in vocabulary if known != word]
    scored = [pair for pair in scored if pair[0] >= WORD_CLOSENESS]
    return [known for _, known in sorted(scored, reverse=True)[:WORD_ALTERNATIVES]]


def _edits(words: list[str], vocabulary: tuple):
    """The transcript with up to `MAX_EDITS` of its words (or pairs of words) replaced by
    known words close to them."""
    spots = []  # (first word, words replaced, alternatives)
    for index, word in enumerate(words):
        if word not in VOCABULARY:
            spots.append((index, 1, _alternatives(word, vocabulary)))
        if index + 1 < len(words):
            joined = word + words[index + 1]
            spots.append((index, 2, _alternatives(joined, vocabulary)))
    for count in range(1, MAX_EDITS + 1):
        for chosen in itertools.combinations(spots, count):
            covered = [i for start, size, _ in chosen for i in range(start, start + size)]
            if len(covered) != len(set(covered)):
                continue
            for replacements in itertools.product(*(alts for _, _, alts in chosen)):
                out = list(words)
                for (start, size, _), new in sorted(
                    zip(chosen, replacements, strict=True), reverse=True
                ):
                    out[start : start + size] = [new]
                yield " ".join(out)


def page_requests(blocks: list) -> list[str]:
    """The page's requests in their plainest words: each block coloured, given a background,
    resized, aligned, moved, deleted; blocks added; undo and redo."""
    sentences = [
        "undo",
        "redo",
        "undo that",
        "redo that",
        "what's on the page",
        "add a heading",
        "add a paragraph",
        "add a button",
    ]
    names = [name for block in blocks if (name := _name(block, blocks))]
    for name in names:
        sentences += [f"make {name} {colour}" for colour in COLOR_NAMES]
        sentences += [f"give {name} a {colour} background" for colour in COLOR_NAMES]
        sentences += [f"make {name} bigger", f"make {name} smaller", f"center {name}"]
        sentences += [f"align {name} left", f"align {name} right", f"delete {name}"]
        sentences += [f"move {name} {where}" for where in ("up", "down")]
        sentences += [f"move {name} to the {edge}" for edge in ("top", "bottom")]
        sentences += [f"select {name}"]
        for other in names:
            if other != name:
                sentences += [f"move {name} {side} {other}" for side in ("above", "below")]
    return sentences


def _name(block: dict, blocks: list) -> str | None:
    """A block as said: "the button", or "the second paragraph" among several (None past
    the fifth of its kind, unless it is the last)."""
    kind = block.get("type", "block")
    same = [b for b in blocks if b.get("type") == kind]
    if len(same) == 1:
        return f"the {kind}"
    place = same.index(block) + 1
    if place == len(same) and place > 2:
        return f"the last {kind}"
    return f"the {SPOKEN_ORDINALS[place]} {kind}" if place in SPOKEN_ORDINALS else None
