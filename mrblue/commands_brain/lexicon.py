"""The words of spoken editing requests, each written once: most as {meaning: the words that
say it}, turned round for reading; and the helpers that make regular expressions of them."""

import re

# --- word lists, each written once; most as {meaning: the words that say it} --------------


def _by_word(meanings: dict) -> dict:
    """{meaning: (word, ...)} turned round into {word: meaning}."""
    return {word: meaning for meaning, words in meanings.items() for word in words}


TYPE_WORDS = _by_word(
    {
        "heading": ("heading", "headline", "title", "header", "h1"),
        "paragraph": ("paragraph", "text", "copy", "description", "intro", "sentence"),
        "button": ("button", "cta", "call to action", "link"),
        "image": ("image", "picture", "photo", "img", "logo"),
        None: ("block", "element", "section", "item", "one"),  # any type
    }
)
# The kinds of block one can ask to add.
NEW_BLOCK_WORDS = _by_word(
    {
        "heading": ("heading", "headline", "title"),
        "paragraph": ("paragraph", "text block"),
        "button": ("button",),
        "image": ("image", "picture", "photo"),
    }
)
# Counted from the start; -1 is the last. The first word is how it is said back.
ORDINAL_WORDS = {
    1: ("first", "1st", "top"),
    2: ("second", "2nd"),
    3: ("third", "3rd"),
    4: ("fourth", "4th"),
    5: ("fifth", "5th"),
    -1: ("last", "bottom", "final"),
}
ORDINALS = _by_word(ORDINAL_WORDS)
PRONOUNS = (
    "it",
    "this",
    "that",
    "the selection",
    "the selected block",
    "the selected element",
    "the selected one",
    "this one",
    "that one",
    "this block",
    "that block",
    "this element",
    "that element",
)
ALIGN_WORDS = _by_word(
    {
        "center": ("center", "centre", "middle", "centered", "centred"),
        "left": ("left",),
        "right": ("right",),
        "justify": ("justify", "justified"),
    }
)
GROW_WORDS = _by_word(
    {"bigger": ("bigger", "larger", "huge"), "smaller": ("smaller", "tinier", "less big")}
)
GROW_VERBS = _by_word(
    {"bigger": ("increase", "enlarge"), "smaller": ("decrease", "reduce", "shrink")}
)
SIDES = _by_word(
    {"before": ("before", "above"), "after": ("after", "below", "under", "underneath", "beneath")}
)
EDGES = _by_word({"start": ("top", "beginning", "start"), "end": ("end", "bottom")})
STEPS = ("up", "down")
# Polite words at the start ("ok so could you ...") and the end (", please") of a request.
# Tidied text has single spaces, so " ?,? " is all the room a separator needs.
FILLERS = re.compile(
    r"(?:(?:ok(?:ay)?|so|now|hey|hi|please|mr\.? blue|mister blue|blue|um|uh|er|hmm|well|"
    r"alright|actually|i think|oh|"
    r"can you|could you|would you mind|would you|will you|can u|i want you to|i'd like you to|"
    r"i would like you to|i want to|i'd like to|let's|lets|go ahead and|just|kindly) ?,? )+"
)
POLITE_END = re.compile(r" (?:(?:and )?(?:please|thanks|thank you)(?: (?:so much|a lot))?|for me)$")
QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
# A block reference names the block with at most this many words ("the paragraph about ...").
REF_WORDS = 12


def one_of(words) -> str:
    """A regex alternative of the words, longest first so a longer phrase wins."""
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


def without_groups(pattern: str) -> str:
    """The same pattern with its named groups made non-capturing, to embed in a bigger one."""
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)
