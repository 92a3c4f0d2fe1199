"""Understanding spoken editing requests, without a language model.

`parse(utterance)` returns an `Intent` (a name and its slots) or None. The grammar is a table:
the word lists (each written once; the regular expressions are made from them), the `SLOTS` a
phrasing can carry, and `RULES`, one row per phrasing, tried in order by one loop. Block
references stay symbolic (`Ref`: a type, an ordinal, a pronoun or some words of the block's
text) until `resolve()` matches them against the page's blocks. Pure functions only.

Every pattern takes time linear in the text (the brain reads what anyone types): no two
unbounded quantifiers in a row can match the same characters, a block reference is a bounded
number of words, and each rule has at most one unbounded slot (the free text).

The module is long because it is mostly data: the word lists and the `RULES` table (38 rows,
some 120 lines) take some 200 of its lines; the code is the small functions around them.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from editor.blocks import NAMED_COLORS

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
        None: ("block", "element", "section", "item"),  # any type
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
    r"(?:(?:ok(?:ay)?|so|now|hey|hi|please|mr\.? blue|mister blue|"
    r"can you|could you|would you|will you|can u|would you mind|i want you to|i'd like you to|"
    r"i would like you to|i want to|i'd like to|let's|lets|go ahead and|just|kindly) ?,? )+"
)
POLITE_END = re.compile(r",? ?(?:please|thanks|thank you)$")
QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
# A block reference names the block with at most this many words ("the paragraph about ...").
REF_WORDS = 12


def _one_of(words) -> str:
    """A regex alternative of the words, longest first so a longer phrase wins."""
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


def _without_groups(pattern: str) -> str:
    """The same pattern with its named groups made non-capturing, to embed in a bigger one."""
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


@dataclass
class Ref:
    """A reference to a block, as said: 'the second paragraph', 'it', 'the button'."""

    type: str | None = None
    ordinal: int | None = None
    pronoun: bool = False
    words: str | None = None  # 'the paragraph about milongas' -> 'milongas'
    said: str = ""


@dataclass
class Intent:
    """What the user asked for, with its slots."""

    name: str
    slots: dict = field(default_factory=dict)


def normalize(utterance: str) -> str:
    """Lowercase, unify quotes and spaces, drop polite fillers and trailing punctuation."""
    return _request(utterance)[0]


def _request(utterance: str) -> tuple[str, str]:
    """The normalized request, and the same characters in the user's own casing (for free
    text: a new title, a button label). Each step is one linear pass over the text."""
    cased = " ".join(utterance.translate(QUOTES).split()).rstrip(".!?").rstrip()
    text = cased.lower()
    if len(text) != len(cased):
        cased = text  # a letter whose lowercase is longer: offsets would not line up
    end = len(text)
    polite = POLITE_END.search(text)
    if polite:
        end = len(text[: polite.start()].rstrip())
    start = 0
    while start < end and (filler := FILLERS.match(text, start, end)):
        start = filler.end()
    return text[start:end], cased[start:end]


def _as_said(original: str) -> str:
    """Free text as the user wrote it, without the quotes around it."""
    return original.strip().strip("\"' ")


# --- block references and places (normalized text has single spaces only) -----------------

# Lazy, so a reference's words end where the rest of the rule can begin; bounded, so trying
# every place they could end costs a constant, however long the text.
_WORD = r"[\w'-]{1,30}?"
_REF_PARTS = re.compile(
    rf"(?:(?:the|this|that|my|our) )?(?:(?P<ord>{_one_of(ORDINALS)}) )?(?:(?:main|page|big|new) )?"
    rf"(?P<type>{_one_of(TYPE_WORDS)})(?: (?:text|block|element))?"
    rf"(?: (?:about|with|mentioning) (?P<words>{_WORD}(?: {_WORD}){{0,{REF_WORDS - 1}}}?))?"
)
REF = rf"{_without_groups(_REF_PARTS.pattern)}|{_one_of(PRONOUNS)}"
_PLACE_PARTS = re.compile(
    rf"at the (?P<edge>{_one_of(EDGES)})(?: of the page)?|(?P<side>{_one_of(SIDES)}) (?P<ref>{REF})"
)
COLOR = r"#[0-9a-f]{6}|#[0-9a-f]{3}|" + _one_of(NAMED_COLORS)
_COLOR = re.compile(COLOR)


def parse_ref(said: str) -> Ref | None:
    """Turn 'the second paragraph' / 'it' / 'the paragraph about tango' into a Ref."""
    said = said.strip()
    if said in PRONOUNS:
        return Ref(pronoun=True, said=said)
    match = _REF_PARTS.fullmatch(said)
    if not match:
        return None
    return Ref(
        type=TYPE_WORDS[match.group("type")],
        ordinal=ORDINALS.get(match.group("ord") or ""),
        words=(match.group("words") or "").strip() or None,
        said=said,
    )


# --- slots: what a placeholder in a rule matches, and what it means ------------------------
# A reader turns the matched words (and the same words in the user's casing) into slot values,
# or returns None to reject the rule.


def _target(said, _original):
    ref = parse_ref(said)
    return {"target": ref} if ref else None


def _named_target(said, _original):
    ref = parse_ref(said)
    return {"target": ref} if ref and not ref.pronoun else None


def _anchor(said, _original):
    return {"anchor": parse_ref(said)}


def _place(said, _original):
    match = _PLACE_PARTS.fullmatch(said)
    if match.group("edge"):
        return {"position": EDGES[match.group("edge")], "anchor": None}
    return {"position": SIDES[match.group("side")], "anchor": parse_ref(match.group("ref"))}


def _new_text(said, original):
    bare = _as_said(said)
    if not bare or _COLOR.fullmatch(bare) or bare in ALIGN_WORDS:
        return None  # "change the title to blue" is a colour, not new words
    return {"text": _as_said(original)}


def _label(said, original):
    return {"text": _as_said(original)}


def _as_is(slot: str):
    return lambda said, _original: {slot: said}


def _meaning(slot: str, words: dict):
    return lambda said, _original: {slot: words[said]}


@dataclass(frozen=True)
class Slot:
    """A placeholder of the rules: the regex it matches and how its words are read."""

    pattern: str
    read: Callable[[str, str], dict | None]


SLOTS = {
    "ref": Slot(REF, _target),  # the block acted on
    "named": Slot(REF, _named_target),  # the same, but not 'it' (to select, name the block)
    "anchor": Slot(REF, _anchor),  # the block something goes next to
    "place": Slot(_without_groups(_PLACE_PARTS.pattern), _place),
    "color": Slot(COLOR, _as_is("color")),
    "background": Slot(COLOR, _as_is("background")),
    "align": Slot(_one_of(ALIGN_WORDS), _meaning("align", ALIGN_WORDS)),
    "size": Slot(r"\d{1,3}", lambda said, _: {"font_size": int(said)}),
    "grow": Slot(_one_of(GROW_WORDS), _meaning("font_size", GROW_WORDS)),
    "grow_verb": Slot(_one_of(GROW_VERBS), _meaning("font_size", GROW_VERBS)),
    "side": Slot(_one_of(SIDES), _meaning("position", SIDES)),
    "edge": Slot(_one_of(EDGES), _meaning("position", EDGES)),
    "step": Slot(_one_of(STEPS), _as_is("position")),
    "new_block": Slot(_one_of(NEW_BLOCK_WORDS), _meaning("type", NEW_BLOCK_WORDS)),
    "text": Slot(r".+", _new_text),  # new words for a block: the rest of the sentence
    "label": Slot(r".+?", _label),  # the words of a new block, maybe followed by a place
}
# Placeholders that match words but carry no meaning.
FRAGMENTS = {
    "new": r"(?:an? |another |one more )?(?:new )?",
    "says": r"that says|saying|which says|that reads|reading|with the text|labell?ed|called|"
    r"with|titled|:",
    "unit": r"(?: ?(?:px|pixels?|points?|pt))?",
}
# Slots every intent of a kind has, when its phrasing leaves them out.
DEFAULT_SLOTS = {
    "insert": {"text": "", "position": "auto", "anchor": None},
    "move": {"anchor": None},
}


@dataclass(frozen=True)
class Rule:
    """One phrasing: a full-match regex and the slots its groups fill, in order."""

    intent: str
    pattern: re.Pattern
    groups: tuple[tuple[str, str], ...]  # (regex group, slot name)

    def read(self, match: re.Match, cased: str) -> dict | None:
        """The intent's slots from a match, or None if a slot rejects it.

        `cased` is the matched text in the user's casing (the same characters, so the same
        offsets). A slot named twice (a place before and after the words) takes the first one.
        """
        slots = dict(DEFAULT_SLOTS.get(self.intent, {}))
        seen = set()
        for group, name in self.groups:
            said = match.group(group)
            if said is None or name in seen:
                continue
            seen.add(name)
            value = SLOTS[name].read(said, cased[match.start(group) : match.end(group)])
            if value is None:
                return None
            slots.update(value)
        return slots


def rule(intent: str, template: str) -> Rule:
    """Compile a rule: `{slot}` becomes a capturing group, `{fragment}` a plain one."""
    groups = []

    def expand(placeholder: re.Match) -> str:
        name = placeholder.group(1)
        if name in FRAGMENTS:
            return f"(?:{FRAGMENTS[name]})"
        group = f"{name}_{len(groups)}"
        groups.append((group, name))
        return f"(?P<{group}>{SLOTS[name].pattern})"

    pattern = re.sub(r"\{(\w+)\}", expand, template)
    return Rule(intent, re.compile(pattern), tuple(groups))


# --- the grammar: tried in order, the first rule that matches and reads wins ---------------

RULES = tuple(
    rule(intent, template)
    for intent, template in (
        (
            "undo",
            r"(?:undo|revert|reverse|cancel)(?: (?:that|it|this|the last change|"
            r"the last edit|my last change|what you just did|the change))?"
            r"|go back|take (?:that|it) back|never ?mind(?:,? undo(?: that)?)?|"
            r"change it back|put it back the way it was|oops,? undo(?: that)?",
        ),
        (
            "redo",
            r"redo(?: (?:that|it|this|the last change|the change))?|"
            r"(?:re-?apply|restore) (?:that|the) (?:change|edit)|bring (?:that|it) back"
            r"|do that again|undo (?:the|that|your) undo",
        ),
        (
            "greet",
            r"(?:hi|hello|hey|hiya|howdy|good (?:morning|afternoon|evening)|greetings)"
            r"(?: there)?(?:,? (?:mr\.? blue|mister blue|blue))?|"
            r"(?:how are you|how's it going)(?: doing)?(?: today)?",
        ),
        (
            "capabilities",
            r"(?:what can you do|what do you do|what are you able to do|"
            r"how can you help(?: me)?|what can i ask(?: you)?|help(?: me)?|"
            r"what are your (?:skills|capabilities)|who are you|what are you)"
            r"(?: here| for me| on this page)?",
        ),
        (
            "thanks",
            r"(?:thanks|thank you|great|perfect|awesome|nice|cool|that's great|"
            r"looks good|good job|well done)(?:,? (?:thanks|thank you))?"
            r"(?:,? (?:mr\.? blue|so much|a lot))?",
        ),
        (
            "describe",
            r"what(?:'s| is) on (?:the|this) page|describe (?:the|this) page|"
            r"read (?:me )?(?:the|this) page|list (?:the|all the|all) (?:blocks|elements)|"
            r"what (?:blocks|elements) are (?:there|on the page)|"
            r"tell me about (?:the|this) page|what does (?:the|this) page (?:say|contain)|"
            r"what(?:'s| is) (?:the|this) page about",
        ),
        (
            "insert",
            r"(?:add|insert|create|put|place|make) {new}{new_block}(?: {place})? {says} {label}"
            r"(?: {place})?",
        ),
        ("insert", r"(?:add|insert|create|put|place|make) {new}{new_block}(?: {place})?"),
        ("move", r"(?:move|put|place|drag|shift) {ref} {side} {anchor}"),
        (
            "move",
            r"(?:move|put|place|drag|shift) {ref} (?:to |at )?(?:the )?{edge}(?: of the page)?",
        ),
        ("move", r"(?:move|shift) {ref} {step}(?: one| a bit| by one)?"),
        (
            "delete",
            r"(?:delete|remove|erase|drop|get rid of|take out|take away|cut) {ref}"
            r"(?: from the page)?",
        ),
        ("style", r"{align}(?:-| )?(?:align)? {ref}"),
        ("style", r"(?:align|move|put|set|shift) {ref} (?:to |on |in )?(?:the )?{align}(?: side)?"),
        (
            "style",
            r"(?:make|set) {ref}(?:'s)? (?:alignment |text alignment )?(?:to )?{align}"
            r"(?:-? ?aligned)?",
        ),
        ("style", r"(?:give|add) {ref} an? {background} background(?: colou?r)?"),
        (
            "style",
            r"(?:make|set|change|turn|paint) (?:the )?background(?: colou?r)? of {ref} "
            r"(?:to )?{background}",
        ),
        (
            "style",
            r"(?:make|set|change|turn|paint) {ref}(?:'s)? background(?: colou?r)? "
            r"(?:to )?{background}",
        ),
        ("style", r"(?:put|use) an? {background} background (?:on|for|behind) {ref}"),
        ("style", r"(?:make|set) {ref}(?: text| font)? {grow}"),
        ("style", r"{grow_verb} (?:the )?(?:font |text )?size of {ref}"),
        ("style", r"{grow_verb} {ref}(?:'s)?(?: font| text)?(?: size)?"),
        (
            "style",
            r"(?:make|set|change) (?:the )?(?:font |text )?size of {ref} (?:to )?{size}{unit}",
        ),
        ("style", r"(?:make|set|change) {ref}(?:'s)? (?:font |text )?size (?:to )?{size}{unit}"),
        ("style", r"(?:make|set) {ref} {size}{unit}(?: big| tall| high)?"),
        ("style", r"(?:make|turn|paint|colou?r|set) {ref}(?: text| font)? (?:to |in )?{color}"),
        (
            "style",
            r"(?:change|set|make|switch) (?:the )?(?:text |font )?colou?r of {ref} "
            r"(?:to |into )?{color}",
        ),
        (
            "style",
            r"(?:change|set|make|switch) {ref}(?:'s)? (?:text |font )?colou?r "
            r"(?:to |into )?{color}",
        ),
        ("style", r"(?:change|switch) {ref} to {color}"),
        ("style", r"(?:i want|i'd like|let's have|show) {ref} (?:in |to be )?{color}"),
        (
            "text",
            r"(?:change|set|update|rename|edit) (?:the )?(?:text|wording|label|title) of {ref} "
            r"(?:to|into)(?: say)? {text}",
        ),
        (
            "text",
            r"(?:change|set|update|rename|edit) {ref}(?:'s)? (?:text |label |wording )?"
            r"(?:to|into)(?: say| read)? {text}",
        ),
        ("text", r"(?:make|let) {ref} (?:say|read) {text}"),
        ("text", r"{ref} should (?:say|read) {text}"),
        ("text", r"replace (?:the (?:text|words) (?:of|in) )?{ref}(?:'s)?(?: text)? with {text}"),
        ("text", r"(?:write|type|put) {text} (?:in|into|as) {ref}"),
        ("text", r"(?:call|title|label) {ref} {text}"),
        (
            "select",
            r"(?:select|pick|choose|highlight|focus(?: on)?|go to|click(?: on)?) {named}",
        ),
    )
)


def parse(utterance: str) -> Intent | None:
    """Understand one utterance; None when it is not something this brain can do."""
    text, cased = _request(utterance)
    if not text:
        return None
    for row in RULES:
        match = row.pattern.fullmatch(text)
        if match and (slots := row.read(match, cased)) is not None:
            return Intent(row.intent, slots)
    return None


# --- resolving references against the page -----------------------------------------------

SPOKEN_ORDINALS = {number: words[0] for number, words in ORDINAL_WORDS.items()}


def resolve(ref: Ref, blocks: list[dict], selected_id: str | None) -> dict | None:
    """The block a reference means on this page, or None."""
    if ref.pronoun:
        return next((b for b in blocks if b.get("id") == selected_id), None)
    candidates = [b for b in blocks if ref.type is None or b.get("type") == ref.type]
    if ref.words:
        words = ref.words.lower()
        candidates = [b for b in candidates if words in (b.get("text") or "").lower()]
    if not candidates:
        return None
    if ref.ordinal is None:
        chosen = next((b for b in candidates if b.get("id") == selected_id), None)
        return chosen or candidates[0]
    index = ref.ordinal - 1 if ref.ordinal > 0 else len(candidates) + ref.ordinal
    return candidates[index] if 0 <= index < len(candidates) else None


def describe_ref(ref: Ref) -> str:
    """How to say the reference back: 'the second paragraph', 'the heading', 'it'."""
    if ref.pronoun:
        return "the selected block"
    parts = ["the", SPOKEN_ORDINALS.get(ref.ordinal, ""), ref.type or "block"]
    if ref.words:
        parts.append(f"about {ref.words}")
    return " ".join(part for part in parts if part)
