"""Near-miss matching: what was heard, set against the words this page and this grammar expect.

Speech recognition turns words it does not expect into similar-sounding ones ("blew" for
"blue", "hating" for "heading", "paragraf"). `correct()` replaces each word that neither the
grammar nor the page knows with the known word it most resembles, in spelling (rapidfuzz's
normalized Indel similarity) or in sound (jellyfish's Metaphone codes), when the resemblance
is close enough; a known word is never changed. The grammar is tried on the text as heard
first: correction is the second reading, so a new title's unusual words survive when the
sentence already makes sense.

`best_block()` picks the block whose text a reference's words ("the paragraph about
milongas") are closest to. All of it is pure and linear in the text's words.
"""

import re
from functools import lru_cache

import jellyfish
from rapidfuzz import fuzz, process

# Spelling similarity (0-100) that corrects a word alone, or together with equal sound codes.
SPELLING_ALONE = 80
SPELLING_WITH_SOUND = 60
SOUND_BONUS = 15  # among close spellings, one that sounds the same wins
JOINED = 88  # two heard words run together must spell a known word this closely
# How well a reference's words must match a block's text (rapidfuzz partial ratio, 0-100).
BLOCK_WORDS_MATCH = 70
MIN_WORD_CHARS = 3  # shorter words ("a", "of", "it") are too alike to correct safely
_TOKEN = re.compile(r"[a-z][a-z'-]*")


@lru_cache(maxsize=4096)
def _sound(word: str) -> str:
    return jellyfish.metaphone(word)


def closest(word: str, known: tuple[str, ...]) -> str | None:
    """The known word `word` is most likely a mishearing of, or None."""
    if len(word) < MIN_WORD_CHARS or not known:
        return None
    sound = _sound(word)
    best, best_rank = None, 0.0
    for candidate, score, _ in process.extract(
        word, known, scorer=fuzz.ratio, score_cutoff=SPELLING_WITH_SOUND, limit=None
    ):
        alike = _sound(candidate) == sound
        if score >= SPELLING_ALONE or alike:
            rank = score + (SOUND_BONUS if alike else 0)  # "botton" is "button", not "bottom"
            if rank > best_rank:
                best, best_rank = candidate, rank
    return best


def correct(text: str, known: frozenset[str]) -> str:
    """`text` (normalized: lowercase, single spaces) with each unknown word replaced by the
    known word it resembles, and two words that are one known word run together ("back
    round" is "background"); words with nothing close stay as they are."""
    choices = tuple(sorted(w for w in known if len(w) >= MIN_WORD_CHARS))
    words, out, index = text.split(" "), [], 0
    while index < len(words):
        word = words[index]
        joined = _joined(word, words[index + 1], known, choices) if index + 1 < len(words) else None
        if joined is not None:
            out.append(joined)
            index += 2
            continue
        out.append(
            word
            if _known(word, known) or not _TOKEN.fullmatch(word)
            else (_stem(word, known) or closest(word, choices) or word)
        )
        index += 1
    return " ".join(out)


def _joined(first: str, second: str, known: frozenset[str], choices) -> str | None:
    """The known word two heard words make together ("re do", "back round"), if any."""
    joined = first + second
    if not _TOKEN.fullmatch(joined):
        return None
    if joined in known:
        return joined
    if _known(first, known) and _known(second, known):
        return None
    match = process.extractOne(joined, choices, scorer=fuzz.ratio, score_cutoff=JOINED)
    return None if match is None else match[0]


def _known(word: str, known: frozenset[str]) -> bool:
    return word in known or (word.endswith("'s") and word[:-2] in known)


def _stem(word: str, known: frozenset[str]) -> str | None:
    """The known verb behind an -ing form: making, setting, moving, centring."""
    if not word.endswith("ing") or len(word) < 6:
        return None
    stem = word[:-3]
    for base in (stem, stem + "e", stem[:-1] if stem[-1:] == stem[-2:-1] else "", stem[:-1] + "e"):
        if base and base in known:
            return base
    return None


def words_of(text: str) -> set[str]:
    """The lowercase words of a text."""
    return set(_TOKEN.findall(text.lower()))


def best_block(words: str, blocks: list[dict]) -> dict | None:
    """The block whose text best contains `words`, if any does closely enough."""
    scored = [
        (fuzz.partial_ratio(words.lower(), (b.get("text") or "").lower()), index)
        for index, b in enumerate(blocks)
    ]
    scored = [(score, index) for score, index in scored if score >= BLOCK_WORDS_MATCH]
    if not scored:
        return None
    return blocks[max(scored, key=lambda pair: (pair[0], -pair[1]))[1]]
