"""Understanding spoken editing requests, without a language model: a grammar and a matcher.

`parse(utterance)` returns an `Intent` (a name and its slots) or None. The grammar is a table:
the word lists (each written once; the regular expressions are made from them), the `SLOTS` a
phrasing can carry, and `GRAMMAR`, one row per phrasing, tried in order by one loop. Rows may
leave a slot out ("change the colour of the button"): the intent then says what is `missing`,
and the brain asks. `ANSWERS` is the small grammar of the replies to those questions, and
`answer()` completes the pending request with one. Block references stay symbolic (`Ref`: a
type, an ordinal, a pronoun or some words of the block's text) until `matches()` sets them
against the page's blocks: one block, several (ambiguous), or none.

What was heard is read as it is first; if no row fits, the matcher (`matcher.correct`) sets
each word that neither the grammar nor the page knows to the known word it most resembles, and
the grammar reads it again. Pure functions only.

Every pattern takes time linear in the text (the brain reads what anyone types): no two
unbounded quantifiers in a row can match the same characters, a block reference is a bounded
number of words, and each rule has at most one unbounded slot (the free text).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from editor.blocks import NAMED_COLORS
from mrblue.commands_brain.matcher import best_block, correct

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
    noun: str = ""  # the word that named the type ('intro'), matched against block ids too


# What each kind of request needs before it can be carried out; "property" is a style's
# colour, background, size or alignment.
REQUIRED = {
    "style": ("target", "property"),
    "text": ("target", "text"),
    "delete": ("target",),
    "select": ("target",),
    "move": ("target", "position"),
    "insert": ("type",),
}
STYLE_PROPERTIES = ("color", "background", "font_size", "align")


@dataclass
class Intent:
    """What the user asked for, with its slots (`wants`: the style property a request names
    without its value, as in "change the colour of the button")."""

    name: str
    slots: dict = field(default_factory=dict)

    @property
    def missing(self) -> tuple[str, ...]:
        """The slots still to ask for, most needed first."""
        needed = REQUIRED.get(self.name, ())
        have = set(self.slots)
        if any(p in have for p in STYLE_PROPERTIES):
            have.add("property")
        lacking = tuple(s for s in needed if s not in have or self.slots.get(s, s) is None)
        if "property" in lacking and self.slots.get("wants"):
            return tuple(self.slots["wants"] if s == "property" else s for s in lacking)
        return lacking


@dataclass(frozen=True)
class Heard:
    """A tidied request: `text` (lowercase, single spaces, no pauses) and where each of its
    characters came from in `original` (the user's casing and punctuation, for free text)."""

    text: str
    original: str
    origin: tuple[int, ...]

    def said(self, start: int, end: int) -> str:
        """The original characters behind text[start:end]."""
        if start >= end:
            return ""
        return self.original[self.origin[start] : self.origin[end - 1] + 1]


def normalize(utterance: str) -> str:
    """Lowercase, unify quotes and spaces, drop pauses, polite fillers and the final stop."""
    return _request(utterance).text


def _request(utterance: str) -> Heard:
    """The tidied request, fillers and polite ends dropped. Each step is one linear pass."""
    heard = tidy(utterance)
    text = heard.text
    end = len(text)
    polite = POLITE_END.search(text)
    if polite and polite.start() > 0:
        end = polite.start()
    start = 0
    while start < end and (filler := FILLERS.match(text, start, end)):
        start = filler.end()
    return Heard(text[start:end], heard.original, heard.origin[start:end])


def tidy(utterance: str) -> Heard:
    """Unify quotes and spaces, lowercase, and drop the pauses speech recognition writes
    (commas, semicolons, question and exclamation marks, full stops that end a word)."""
    original = " ".join(utterance.translate(QUOTES).split())
    kept, origin = [], []
    for index, char in enumerate(original):
        ends_word = index + 1 == len(original) or original[index + 1] == " "
        if char in ",;!?" or (char == "." and ends_word and not _is_title(original, index)):
            char = " "
        if char == " " and (not kept or kept[-1] == " "):
            continue
        kept.append(char)
        origin.append(index)
    while kept and kept[-1] == " ":
        kept.pop()
        origin.pop()
    text = "".join(kept).lower()
    if len(text) != len(kept):  # a letter whose lowercase is longer: offsets would not line up
        return Heard(text, text, tuple(range(len(text))))
    return Heard(text, original, tuple(origin))


def _is_title(text: str, index: int) -> bool:
    """Whether the full stop at `index` ends "Mr." (kept: the grammar names Mr. Blue)."""
    return text[max(0, index - 2) : index].lower() == "mr"


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
COLOR_NAMES = [name for name in NAMED_COLORS if name != "grey"]
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
        noun=match.group("type"),
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
    "unknown": Slot(r"(?:the|this|that) [\w'-]{1,30}(?: [\w'-]{1,30})?", lambda *_: {}),
    "text": Slot(r".+", _new_text),  # new words for a block: the rest of the sentence
    "label": Slot(r".+?", _label),  # the words of a new block, maybe followed by a place
}
# Placeholders that match words but carry no meaning.
FRAGMENTS = {
    "new": r"(?:an? |another |one more )?(?:new )?",
    "says": r"that says|saying|which says|that reads|reading|with the text|labell?ed|called|"
    r"with|titled|:",
    "unit": r"(?: ?(?:px|pixels?|points?|pt))?",
    "more": r"(?:a (?:bit|little|lot) |slightly |much |even )?",
    "add": r"add|insert|create|put|place|make|i'd like|i want|give me",
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

    fixed: tuple[tuple[str, object], ...] = ()  # slots the phrasing itself implies

    def read(self, match: re.Match, heard: Heard) -> dict | None:
        """The intent's slots from a match, or None if a slot rejects it.

        `heard` gives each slot's words in the user's casing. A slot named twice (a place
        before and after the words) takes the first one.
        """
        slots = {**DEFAULT_SLOTS.get(self.intent, {}), **dict(self.fixed)}
        seen = set()
        for group, name in self.groups:
            said = match.group(group)
            if said is None or name in seen:
                continue
            seen.add(name)
            value = SLOTS[name].read(said, heard.said(match.start(group), match.end(group)))
            if value is None:
                return None
            slots.update(value)
        return slots


def rule(intent: str, template: str, fixed: dict | None = None) -> Rule:
    """Compile a rule: `{slot}` becomes a capturing group, `{fragment}` a plain one; `fixed`
    slots are what the phrasing implies ("change the colour of X" wants a colour)."""
    groups = []

    def expand(placeholder: re.Match) -> str:
        name = placeholder.group(1)
        if name in FRAGMENTS:
            return f"(?:{FRAGMENTS[name]})"
        group = f"{name}_{len(groups)}"
        groups.append((group, name))
        return f"(?P<{group}>{SLOTS[name].pattern})"

    pattern = re.sub(r"\{(\w+)\}", expand, template)
    return Rule(intent, re.compile(pattern), tuple(groups), tuple((fixed or {}).items()))


# --- the grammar: tried in order, the first rule that matches and reads wins ---------------

GRAMMAR = (
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
        r"{add} {new}{new_block}(?: {place})? {says} {label}"
        r"(?: {place})?",
    ),
    (
        "insert",
        r"{add} {new}{new_block}(?: {place})?",
    ),
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
        r"(?:make|set) {ref}(?:'?s)? (?:alignment |text alignment )?(?:to )?{align}"
        r"(?:-? ?aligned)?",
    ),
    ("style", r"(?:give|add) {ref} (?:(?:an?|the|some) )?{background} background(?: colou?r)?"),
    (
        "style",
        r"(?:make|set|change|turn|paint) (?:the )?background(?: colou?r)? "
        r"(?:of|behind|on|for) {ref} "
        r"(?:to )?{background}",
    ),
    (
        "style",
        r"(?:make|set|change|turn|paint) {ref}(?:'?s)? background(?: colou?r)? "
        r"(?:to )?{background}",
    ),
    (
        "style",
        r"(?:put|use|i'd like|i want|add|set) an? {background} background (?:on|for|behind) {ref}",
    ),
    ("style", r"(?:make|set) {ref}(?:'?s)?(?: text| font)? {more}{grow}"),
    ("style", r"(?:make|set) (?:the )?(?:text|font)(?: size)? of {ref} {more}{grow}"),
    ("style", r"{ref} (?:should|needs to|has to|must|could|can) be {more}{grow}"),
    ("style", r"(?:can|could) {ref} be {more}{grow}"),
    ("style", r"{ref} (?:should|needs to|has to|must|could|can) be {color}"),
    ("style", r"(?:can|could) {ref} be {color}"),
    ("style", r"(?:set|change) (?:the )?(?:text )?alignment of {ref} (?:to )?{align}"),
    ("style", r"{grow_verb} (?:the )?(?:font |text )?size of {ref}"),
    ("style", r"{grow_verb} {ref}(?:'?s)?(?: font| text)?(?: size)?"),
    (
        "style",
        r"(?:make|set|change) (?:the )?(?:font |text )?size of {ref} (?:to )?{size}{unit}",
    ),
    ("style", r"(?:make|set|change) {ref}(?:'?s)? (?:font |text )?size (?:to )?{size}{unit}"),
    ("style", r"(?:make|set) {ref} {size}{unit}(?: big| tall| high)?"),
    ("style", r"(?:make|turn|paint|colou?r|set) {ref}(?:'?s)?(?: text| font)? (?:to |in )?{color}"),
    (
        "style",
        r"(?:change|set|make|switch) (?:the )?(?:text |font )?colou?r of {ref} "
        r"(?:to |into )?{color}",
    ),
    (
        "style",
        r"(?:change|set|make|switch) {ref}(?:'?s)? (?:text |font )?colou?r "
        r"(?:to |into )?{color}",
    ),
    ("style", r"(?:change|switch) {ref} to {color}"),
    ("style", r"(?:i want|i'd like|let's have|show) {ref} (?:in |to be )?{color}"),
    (
        "text",
        r"(?:change|set|update|rename|edit) (?:the )?(?:text|wording|label|title) "
        r"(?:of|on|in) {ref} (?:to|into)(?: say)? {text}",
    ),
    (
        "text",
        r"(?:change|set|update|rename|edit) {ref}(?:'?s)? (?:text |label |wording )?"
        r"(?:to|into)(?: say| read)? {text}",
    ),
    ("text", r"(?:make|let) {ref} (?:say|read) {text}"),
    ("text", r"{ref} should (?:say|read) {text}"),
    ("text", r"replace (?:the (?:text|words) (?:of|in) )?{ref}(?:'?s)?(?: text)? with {text}"),
    ("text", r"(?:write|type|put) {text} (?:in|into|as) {ref}"),
    ("text", r"(?:call|title|label) {ref} {text}"),
    (
        "select",
        r"(?:select|pick|choose|highlight|focus(?: on)?|go to|click(?: on)?) {named}",
    ),
    # Requests that leave out what they need: understood, then asked about.
    (
        "style",
        r"(?:change|set|switch|pick) (?:the )?(?:text |font )?colou?r(?: of {ref})?",
        {"wants": "color"},
    ),
    (
        "style",
        r"(?:change|set|make|turn) {ref}(?:'?s)? (?:text |font )?colou?r",
        {"wants": "color"},
    ),
    (
        "style",
        r"(?:make|turn|give|paint) {ref} (?:an?(?:other| different)|some other) colou?r",
        {"wants": "color"},
    ),
    (
        "style",
        r"(?:change|set|switch) (?:the )?background(?: colou?r)?(?: of {ref})?",
        {"wants": "background"},
    ),
    ("style", r"(?:change|set) {ref}(?:'?s)? background(?: colou?r)?", {"wants": "background"}),
    ("style", r"(?:make|set) (?:something|anything|a block|one) {grow}"),
    ("move", r"(?:move|shift|drag) {ref}(?: somewhere(?: else)?)?"),
    ("move", r"(?:move|shift|drag) (?:something|a block)"),
    ("text", r"(?:change|set|update|edit) (?:the )?(?:text|wording|label)(?: of {ref})?"),
    ("text", r"(?:rename|relabel|retitle) {ref}"),
    (
        "insert",
        r"(?:add|insert|create) (?:something|anything|a block|an element|more)",
        {"type": None},
    ),
    ("delete", r"(?:delete|remove|erase)(?: something)?"),
    ("select", r"(?:select|pick|choose)(?: something)?"),
)
RULES = tuple(rule(*row) for row in GRAMMAR)
# Last, once the near-miss reading failed too: a request whose block was not understood
# ("center the mind"), asked about rather than refused.
FALLBACK = (
    ("style", r"{align}(?:-| )?(?:align)? {unknown}"),
    ("style", r"(?:make|turn|paint|colou?r) {unknown} {color}"),
    ("style", r"make {unknown} {more}{grow}"),
    ("delete", r"(?:delete|remove|erase|get rid of) {unknown}"),
    ("select", r"(?:select|pick|choose) {unknown}"),
)
FALLBACK_RULES = tuple(rule(*row) for row in FALLBACK)

# The short answers to the brain's questions, by the slot asked about.
ANSWERS = {
    slot: tuple(rule("answer", template) for template in templates)
    for slot, templates in {
        "target": (r"{ref}",),
        "color": (r"(?:make it |in |to |turn it )?{color}",),
        "background": (r"(?:make it |in |to |an? )?{background}(?: background)?",),
        "position": (
            r"(?:move it |put it )?(?:to |at )?(?:the )?{edge}(?: of the page)?",
            r"(?:move it |put it )?{side} {anchor}",
            r"(?:move it )?{step}(?: one| a bit| by one)?",
        ),
        "text": (r"(?:(?:it should|make it|have it|let it) )?(?:say |read )?{text}",),
        "type": (r"{new}{new_block}(?: {says} {label})?",),
    }.items()
}
# Things people ask for that the page tools cannot do: said so, never "corrected" into a
# colour ("bold" is one letter from "gold").
UNSUPPORTED = re.compile(
    r"\b(?:bold|italics?|underlined?|strike ?through|shadows?|borders?|animations?|animated?|"
    r"videos?|fonts? family|typeface)\b"
)


def _vocabulary() -> frozenset[str]:
    """Every word the grammar itself uses: never corrected, and what near-misses become."""
    sources = [template for _, template, *_ in (*GRAMMAR, *FALLBACK)]
    sources += [FILLERS.pattern, POLITE_END.pattern, UNSUPPORTED.pattern, *FRAGMENTS.values()]
    sources += [*TYPE_WORDS, *NEW_BLOCK_WORDS, *ORDINALS, *PRONOUNS, *ALIGN_WORDS, *GROW_WORDS]
    sources += [*GROW_VERBS, *SIDES, *EDGES, *STEPS, *NAMED_COLORS, "colour color"]
    text = re.sub(r"\{\w+\}|\\[a-z]|\(\?P<\w+>", " ", " ".join(sources))
    return frozenset(re.findall(r"[a-z]+(?:'[a-z]+)?", text))


VOCABULARY = _vocabulary()
MAX_CORRECTED_WORDS = 40  # longer requests are read only as heard


def _read(heard: Heard, rules=RULES, name: str | None = None) -> Intent | None:
    """The first rule's reading of the tidied request, or None."""
    for row in rules:
        match = row.pattern.fullmatch(heard.text)
        if match and (slots := row.read(match, heard)) is not None:
            return Intent(name or row.intent, slots)
    return None


def parse(utterance: str, known: frozenset[str] = frozenset()) -> Intent | None:
    """Understand one utterance; None when it is not something this brain can do.

    The grammar reads the words as heard; if it cannot, they are read again with each word
    that neither the grammar nor `known` (the page's own words) knows set to the known word
    it most resembles (`matcher.correct`)."""
    heard = _request(utterance)
    if not heard.text:
        return None
    intent = _read(heard)
    if intent is not None:
        return intent
    if unsupported := UNSUPPORTED.search(heard.text):
        return Intent("unsupported", {"what": unsupported.group(0)})
    if heard.text.count(" ") >= MAX_CORRECTED_WORDS:
        return None  # a long text is dictation, not a command: its words are the user's
    corrected = correct(heard.text, VOCABULARY | known)
    if corrected != heard.text:
        intent = _read(Heard(corrected, corrected, tuple(range(len(corrected)))))
    return intent or _read(heard, FALLBACK_RULES)


def parse_as_heard(utterance: str) -> Intent | None:
    """The grammar's reading of the words exactly as heard: no near-miss correction and no
    fallback (what `parse` tries first). None when the words alone are no request."""
    heard = _request(utterance)
    return _read(heard) if heard.text else None


def answer(pending: Intent, utterance: str, known: frozenset[str] = frozenset()) -> Intent | None:
    """`pending` completed by the answer to the question it raised (its first missing slot,
    else which block it meant), or None if the utterance does not answer it."""
    slot = pending.missing[0] if pending.missing else "target"
    rules = ANSWERS.get(slot)
    if rules is None:
        return None
    if slot == "text" and (request := parse(utterance, known)) and not request.missing:
        return None  # any words could be new text: a whole request ("undo") is a request
    heard = _request(utterance)
    if slot == "target" and heard.text.removeprefix("the ") in ORDINALS:
        heard = _request(utterance + " one")  # "the second" is "the second one"
    for text in (heard, _corrected(heard, known)):
        reading = _read(text, rules, pending.name)
        if reading is not None:
            return Intent(pending.name, {**pending.slots, **_as_answer(slot, reading, pending)})
    return None


def _corrected(heard: Heard, known: frozenset[str]) -> Heard:
    text = correct(heard.text, VOCABULARY | known)
    return Heard(text, text, tuple(range(len(text))))


def _as_answer(slot: str, reading: Intent, pending: Intent) -> dict:
    """The slots an answer fills; "the second one" keeps the type the question was about."""
    slots = dict(reading.slots)
    ref = slots.get("target")
    before = pending.slots.get("target")
    if slot == "target" and ref is not None and ref.type is None and before is not None:
        slots["target"] = Ref(
            type=before.type, ordinal=ref.ordinal, words=ref.words, said=ref.said, noun=ref.noun
        )
    return slots


# --- resolving references against the page -----------------------------------------------

SPOKEN_ORDINALS = {number: words[0] for number, words in ORDINAL_WORDS.items()}


def matches(ref: Ref, blocks: list[dict], selected_id: str | None) -> list[dict]:
    """The blocks a reference may mean on this page: one when it is clear, several when it
    is ambiguous ("the paragraph" on a page of two, none of them selected), none when the
    page has no such block (or, for "it", nothing is selected)."""
    if ref.pronoun:
        return [b for b in blocks if b.get("id") == selected_id]
    if ref.ordinal is None and not ref.words:
        named = [b for b in blocks if b.get("id") == ref.noun]  # ids often say what they are
        if named:
            return named
    typed = [b for b in blocks if ref.type is None or b.get("type") == ref.type]
    if ref.words:
        best = best_block(ref.words, typed)
        return [best] if best else []
    if ref.ordinal is not None:
        index = ref.ordinal - 1 if ref.ordinal > 0 else len(typed) + ref.ordinal
        return [typed[index]] if 0 <= index < len(typed) else []
    chosen = [b for b in typed if b.get("id") == selected_id]
    return chosen or typed


def resolve(ref: Ref, blocks: list[dict], selected_id: str | None) -> dict | None:
    """The block a reference means on this page, or None if none or several may be meant."""
    found = matches(ref, blocks, selected_id)
    return found[0] if len(found) == 1 else None


def describe_ref(ref: Ref) -> str:
    """How to say the reference back: 'the second paragraph', 'the heading', 'it'."""
    if ref.pronoun:
        return "the selected block"
    parts = ["the", SPOKEN_ORDINALS.get(ref.ordinal, ""), ref.type or "block"]
    if ref.words:
        parts.append(f"about {ref.words}")
    return " ".join(part for part in parts if part)
