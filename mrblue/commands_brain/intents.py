"""Understanding spoken editing requests, without a language model: a grammar and a matcher.

`parse(utterance)` returns an `Intent` (a name and its slots) or None. The grammar is a table
(`grammar`: one row per phrasing, tried in order by one loop), read with the word lists here
(each written once; the regular expressions are made from them) and the `SLOTS` a phrasing can
carry. Rows may leave a slot out ("change the colour of the button"): the intent then says what
is `missing`, and the brain asks. `grammar.ANSWERS` is the small grammar of the replies to those
questions, and `answer()` completes the pending request with one. Block references stay
symbolic (`references.Ref`: a type, an ordinal, a pronoun or some words of the block's text)
until `references.matches()` sets them against the page's blocks: one block, several
(ambiguous), or none.

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
from mrblue.commands_brain.grammar import ANSWERS, FALLBACK, GRAMMAR, UNSUPPORTED
from mrblue.commands_brain.lexicon import (
    ALIGN_WORDS,
    EDGES,
    FILLERS,
    GROW_VERBS,
    GROW_WORDS,
    NEW_BLOCK_WORDS,
    ORDINALS,
    POLITE_END,
    PRONOUNS,
    QUOTES,
    SIDES,
    STEPS,
    TYPE_WORDS,
    one_of,
    without_groups,
)
from mrblue.commands_brain.matcher import correct
from mrblue.commands_brain.references import REF, Ref, parse_ref

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


# --- places and colours (normalized text has single spaces only) ------------------------

_PLACE_PARTS = re.compile(
    rf"at the (?P<edge>{one_of(EDGES)})(?: of the page)?|(?P<side>{one_of(SIDES)}) (?P<ref>{REF})"
)
COLOR_NAMES = [name for name in NAMED_COLORS if name != "grey"]
COLOR = r"#[0-9a-f]{6}|#[0-9a-f]{3}|" + one_of(NAMED_COLORS)
_COLOR = re.compile(COLOR)


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
    "place": Slot(without_groups(_PLACE_PARTS.pattern), _place),
    "color": Slot(COLOR, _as_is("color")),
    "background": Slot(COLOR, _as_is("background")),
    "align": Slot(one_of(ALIGN_WORDS), _meaning("align", ALIGN_WORDS)),
    "size": Slot(r"\d{1,3}", lambda said, _: {"font_size": int(said)}),
    "grow": Slot(one_of(GROW_WORDS), _meaning("font_size", GROW_WORDS)),
    "grow_verb": Slot(one_of(GROW_VERBS), _meaning("font_size", GROW_VERBS)),
    "side": Slot(one_of(SIDES), _meaning("position", SIDES)),
    "edge": Slot(one_of(EDGES), _meaning("position", EDGES)),
    "step": Slot(one_of(STEPS), _as_is("position")),
    "new_block": Slot(one_of(NEW_BLOCK_WORDS), _meaning("type", NEW_BLOCK_WORDS)),
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


# --- the grammar (`grammar`: the table), made into rules -------------------------------------

RULES = tuple(rule(*row) for row in GRAMMAR)
FALLBACK_RULES = tuple(rule(*row) for row in FALLBACK)
ANSWER_RULES = {
    slot: tuple(rule("answer", template) for template in templates)
    for slot, templates in ANSWERS.items()
}


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
    rules = ANSWER_RULES.get(slot)
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
