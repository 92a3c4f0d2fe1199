"""Understanding spoken editing requests, without a language model.

`parse(utterance)` returns an `Intent` (a name and its slots) or None. Block references stay
symbolic (`Ref`: a type, an ordinal, a pronoun or some words of the block's text) until
`resolve()` matches them against the page's blocks. Pure functions only.
"""

import re
from dataclasses import dataclass, field

from editor.blocks import NAMED_COLORS

TYPE_WORDS = {
    "heading": "heading",
    "headline": "heading",
    "title": "heading",
    "header": "heading",
    "h1": "heading",
    "paragraph": "paragraph",
    "text": "paragraph",
    "copy": "paragraph",
    "description": "paragraph",
    "intro": "paragraph",
    "sentence": "paragraph",
    "button": "button",
    "cta": "button",
    "call to action": "button",
    "link": "button",
    "image": "image",
    "picture": "image",
    "photo": "image",
    "img": "image",
    "logo": "image",
    "block": None,
    "element": None,
    "section": None,
    "item": None,
}
ORDINALS = {
    "first": 1,
    "1st": 1,
    "top": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "last": -1,
    "bottom": -1,
    "final": -1,
}
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
ALIGN_WORDS = {
    "center": "center",
    "centre": "center",
    "middle": "center",
    "centered": "center",
    "centred": "center",
    "left": "left",
    "right": "right",
    "justify": "justify",
    "justified": "justify",
}
FILLERS = re.compile(
    r"^(?:(?:ok(?:ay)?|so|now|hey|hi|please|mr\.? blue|mister blue|"
    r"can you|could you|would you|will you|can u|would you mind|i want you to|i'd like you to|"
    r"i would like you to|i want to|i'd like to|let's|lets|go ahead and|just|kindly)\s*,?\s+)+"
)


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
    text = utterance.strip().lower()
    text = re.sub(r"[\u2018\u2019]", "'", text)
    text = re.sub(r"[\u201c\u201d]", '"', text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"[.!?]+$", "", text).strip()
    text = re.sub(r",?\s*(?:please|thanks|thank you)$", "", text).strip()
    previous = None
    while previous != text:
        previous = text
        text = FILLERS.sub("", text).strip()
    return text


def _original_tail(utterance: str, normalized_tail: str) -> str:
    """Recover the user's own casing for free text (a new title, a button label)."""
    cleaned = re.sub(r"[\u201c\u201d]", '"', utterance.strip())
    cleaned = re.sub(r"[.!?]+$", "", cleaned).strip()
    index = cleaned.lower().rfind(normalized_tail)
    text = cleaned[index : index + len(normalized_tail)] if index >= 0 else normalized_tail
    return text.strip().strip("\"'").strip()


# --- block references ---------------------------------------------------------------------

_TYPE_ALT = "|".join(sorted((re.escape(w) for w in TYPE_WORDS), key=len, reverse=True))
_ORD_ALT = "|".join(ORDINALS)
_PRONOUN_ALT = "|".join(sorted((re.escape(p) for p in PRONOUNS), key=len, reverse=True))
REF = (
    rf"(?:(?:the|this|that|my|our)\s+)?(?:(?:{_ORD_ALT})\s+)?(?:(?:main|page|big|new)\s+)?"
    rf"(?:{_TYPE_ALT})(?:\s+(?:text|block|element))?(?:\s+(?:about|with|mentioning)\s+[\w' -]+?)?"
    rf"|{_PRONOUN_ALT}"
)
_REF_PARTS = re.compile(
    rf"^(?:(?:the|this|that|my|our)\s+)?(?:(?P<ord>{_ORD_ALT})\s+)?(?:(?:main|page|big|new)\s+)?"
    rf"(?P<type>{_TYPE_ALT})(?:\s+(?:text|block|element))?"
    rf"(?:\s+(?:about|with|mentioning)\s+(?P<words>[\w' -]+))?$"
)


def parse_ref(said: str) -> Ref | None:
    """Turn 'the second paragraph' / 'it' / 'the paragraph about tango' into a Ref."""
    said = said.strip()
    if said in PRONOUNS:
        return Ref(pronoun=True, said=said)
    match = _REF_PARTS.match(said)
    if not match:
        return None
    return Ref(
        type=TYPE_WORDS[match.group("type")],
        ordinal=ORDINALS.get(match.group("ord") or ""),
        words=(match.group("words") or "").strip() or None,
        said=said,
    )


# --- values -------------------------------------------------------------------------------

_COLOR_ALT = r"#[0-9a-f]{6}|#[0-9a-f]{3}|" + "|".join(NAMED_COLORS)
COLOR = rf"(?:{_COLOR_ALT})"
SIZE = r"(?P<size>\d{1,3})\s*(?:px|pixels?|points?|pt)?"
ALIGN = r"(?P<align>center|centre|middle|centered|centred|left|right|justify|justified)"


def _style(ref_text, **style) -> Intent | None:
    ref = parse_ref(ref_text)
    return Intent("style", {"target": ref, **style}) if ref else None


# --- matchers, tried in order ---------------------------------------------------------------


def _match_undo_redo(text, original):
    if re.fullmatch(
        r"(?:undo|revert|reverse|cancel)(?: (?:that|it|this|the last change|"
        r"the last edit|my last change|what you just did|the change))?"
        r"|go back|take (?:that|it) back|never ?mind(?:,? undo(?: that)?)?|"
        r"change it back|put it back the way it was|oops,? undo(?: that)?",
        text,
    ):
        return Intent("undo")
    if re.fullmatch(
        r"redo(?: (?:that|it|this|the last change|the change))?|"
        r"(?:re-?apply|restore) (?:that|the) (?:change|edit)|bring (?:that|it) back"
        r"|do that again|undo (?:the|that|your) undo",
        text,
    ):
        return Intent("redo")
    return None


def _match_small_talk(text, original):
    if re.fullmatch(
        r"(?:hi|hello|hey|hiya|howdy|good (?:morning|afternoon|evening)|greetings)"
        r"(?: there)?(?:,? (?:mr\.? blue|mister blue|blue))?|"
        r"(?:how are you|how's it going)(?: doing)?(?: today)?",
        text,
    ):
        return Intent("greet")
    if re.fullmatch(
        r"(?:what can you do|what do you do|what are you able to do|"
        r"how can you help(?: me)?|what can i ask(?: you)?|help(?: me)?|"
        r"what are your (?:skills|capabilities)|who are you|what are you)"
        r"(?: here| for me| on this page)?",
        text,
    ):
        return Intent("capabilities")
    if re.fullmatch(
        r"(?:thanks|thank you|great|perfect|awesome|nice|cool|that's great|"
        r"looks good|good job|well done)(?:,? (?:thanks|thank you))?"
        r"(?:,? (?:mr\.? blue|so much|a lot))?",
        text,
    ):
        return Intent("thanks")
    return None


def _match_describe(text, original):
    if re.fullmatch(
        r"(?:what(?:'s| is) on (?:the|this) page|describe (?:the|this) page|"
        r"read (?:me )?(?:the|this) page|list (?:the|all the|all) (?:blocks|elements)|"
        r"what (?:blocks|elements) are (?:there|on the page)|"
        r"tell me about (?:the|this) page|what does (?:the|this) page (?:say|contain)|"
        r"what(?:'s| is) (?:the|this) page about)",
        text,
    ):
        return Intent("describe")
    return None


def _match_align(text, original):
    patterns = (
        rf"{ALIGN}(?:-| )?(?:align)? (?P<ref>{REF})",
        rf"(?:align|move|put|set|shift) (?P<ref>{REF}) (?:to |on |in )?(?:the )?{ALIGN}"
        rf"(?: side)?",
        rf"(?:make|set) (?P<ref>{REF})(?:'s)? (?:alignment |text alignment )?(?:to )?{ALIGN}"
        rf"(?:-? ?aligned)?",
        rf"{ALIGN}(?:-| )align (?P<ref>{REF})",
    )
    for pattern in patterns:
        match = re.fullmatch(pattern, text)
        if match:
            return _style(match.group("ref"), align=ALIGN_WORDS[match.group("align")])
    return None


def _match_background(text, original):
    patterns = (
        rf"(?:give|add) (?P<ref>{REF}) an? (?P<color>{COLOR}) background(?: colou?r)?",
        rf"(?:make|set|change|turn|paint) (?:the )?background(?: colou?r)? of (?P<ref>{REF}) "
        rf"(?:to )?(?P<color>{COLOR})",
        rf"(?:make|set|change|turn|paint) (?P<ref>{REF})(?:'s)? background(?: colou?r)? "
        rf"(?:to )?(?P<color>{COLOR})",
        rf"(?:put|use) an? (?P<color>{COLOR}) background (?:on|for|behind) (?P<ref>{REF})",
    )
    for pattern in patterns:
        match = re.fullmatch(pattern, text)
        if match:
            return _style(match.group("ref"), background=match.group("color"))
    return None


def _match_color(text, original):
    patterns = (
        rf"(?:make|turn|paint|colou?r|set) (?P<ref>{REF})(?: text| font)? (?:to |in )?"
        rf"(?P<color>{COLOR})",
        rf"(?:change|set|make|switch) (?:the )?(?:text |font )?colou?r of (?P<ref>{REF}) "
        rf"(?:to |into )?(?P<color>{COLOR})",
        rf"(?:change|set|make|switch) (?P<ref>{REF})(?:'s)? (?:text |font )?colou?r "
        rf"(?:to |into )?(?P<color>{COLOR})",
        rf"(?:change|switch) (?P<ref>{REF}) to (?P<color>{COLOR})",
        rf"(?:i want|i'd like|let's have|show) (?P<ref>{REF}) (?:in |to be )?(?P<color>{COLOR})",
    )
    for pattern in patterns:
        match = re.fullmatch(pattern, text)
        if match:
            return _style(match.group("ref"), color=match.group("color"))
    return None


def _match_font_size(text, original):
    grow = r"(?P<dir>bigger|larger|huge|smaller|tinier|less big)"
    patterns = (
        rf"(?:make|set) (?P<ref>{REF})(?: text| font)? {grow}",
        rf"(?P<verb>increase|enlarge|decrease|reduce|shrink) (?:the )?(?:font |text )?size of "
        rf"(?P<ref>{REF})",
        rf"(?P<verb>increase|enlarge|decrease|reduce|shrink) (?P<ref>{REF})(?:'s)?"
        rf"(?: font| text)?(?: size)?",
        rf"(?:make|set|change) (?:the )?(?:font |text )?size of (?P<ref>{REF}) (?:to )?{SIZE}",
        rf"(?:make|set|change) (?P<ref>{REF})(?:'s)? (?:font |text )?size (?:to )?{SIZE}",
        rf"(?:make|set) (?P<ref>{REF}) {SIZE}(?: big| tall| high)?",
    )
    for pattern in patterns:
        match = re.fullmatch(pattern, text)
        if not match:
            continue
        groups = match.groupdict()
        if groups.get("size"):
            return _style(groups["ref"], font_size=int(groups["size"]))
        word = groups.get("dir") or groups.get("verb")
        bigger = word in ("bigger", "larger", "huge", "increase", "enlarge")
        return _style(groups["ref"], font_size="bigger" if bigger else "smaller")
    return None


def _match_text(text, original):
    patterns = (
        rf"(?:change|set|update|rename|edit) (?:the )?(?:text|wording|label|title) of "
        rf"(?P<ref>{REF}) (?:to|into)(?: say)? (?P<value>.+)",
        rf"(?:change|set|update|rename|edit) (?P<ref>{REF})(?:'s)? (?:text |label |wording )?"
        rf"(?:to|into)(?: say| read)? (?P<value>.+)",
        rf"(?:make|let) (?P<ref>{REF}) (?:say|read) (?P<value>.+)",
        rf"(?P<ref>{REF}) should (?:say|read) (?P<value>.+)",
        rf"replace (?:the (?:text|words) (?:of|in) )?(?P<ref>{REF})(?:'s)?(?: text)? with "
        rf"(?P<value>.+)",
        rf"(?:write|type|put) (?P<value>.+) (?:in|into|as) (?P<ref>{REF})",
        rf"(?:call|title|label) (?P<ref>{REF}) (?P<value>.+)",
    )
    for pattern in patterns:
        match = re.fullmatch(pattern, text)
        if not match:
            continue
        value = match.group("value").strip()
        bare = value.strip("\"' ")
        if re.fullmatch(COLOR, bare) or bare in ALIGN_WORDS:
            return None  # "change the title to blue" is a colour, not new words
        ref = parse_ref(match.group("ref"))
        if ref is None or not bare:
            continue
        return Intent("text", {"target": ref, "text": _original_tail(original, bare)})
    return None


_NEW = r"(?:an? |another |one more )?(?:new )?"
_INSERT_TYPES = (
    r"(?P<type>heading|headline|title|paragraph|text block|button|image|picture|"
    r"photo)"
)
_SAYS = (
    r"(?:that says|saying|which says|that reads|reading|with the text|labell?ed|called|"
    r"with|titled|:)"
)
_WHERE = (
    rf"(?P<where>at the (?:top|beginning|start|end|bottom)(?: of the page)?|"
    rf"(?:before|above|after|below|under|underneath|beneath) (?P<anchor>{REF}))"
)


def _match_insert(text, original):
    patterns = (
        rf"(?:add|insert|create|put|place|make) {_NEW}{_INSERT_TYPES}(?: {_WHERE})?"
        rf" {_SAYS} (?P<value>.+?)(?: {_WHERE})?",
        rf"(?:add|insert|create|put|place|make) {_NEW}{_INSERT_TYPES}(?: {_WHERE})?",
    )
    for pattern in patterns:
        match = re.fullmatch(
            pattern.replace("(?P<where>", "(?P<where1>", 1).replace(
                "(?P<anchor>", "(?P<anchor1>", 1
            ),
            text,
        )
        if not match:
            continue
        groups = match.groupdict()
        block_type = TYPE_WORDS.get(groups["type"].split()[0], "paragraph") or "paragraph"
        value = (groups.get("value") or "").strip()
        where = groups.get("where1") or groups.get("where") or ""
        anchor_text = groups.get("anchor1") or groups.get("anchor")
        position, anchor = "auto", None
        if where.startswith("at the"):
            position = "start" if re.search(r"top|beginning|start", where) else "end"
        elif where:
            position = "before" if re.match(r"before|above", where) else "after"
            anchor = parse_ref(anchor_text)
        slots = {
            "type": block_type,
            "text": _original_tail(original, value) if value else "",
            "position": position,
            "anchor": anchor,
        }
        return Intent("insert", slots)
    return None


def _match_delete(text, original):
    match = re.fullmatch(
        rf"(?:delete|remove|erase|drop|get rid of|take out|take away|"
        rf"cut) (?P<ref>{REF})(?: from the page)?",
        text,
    )
    if match and (ref := parse_ref(match.group("ref"))):
        return Intent("delete", {"target": ref})
    return None


def _match_move(text, original):
    patterns = (
        rf"(?:move|put|place|drag|shift) (?P<ref>{REF}) (?P<dir>before|above|after|below|under|"
        rf"underneath|beneath) (?P<anchor>{REF})",
        rf"(?:move|put|place|drag|shift) (?P<ref>{REF}) (?:to |at )?(?:the )?"
        rf"(?P<edge>top|beginning|start|end|bottom)(?: of the page)?",
        rf"(?:move|shift) (?P<ref>{REF}) (?P<step>up|down)(?: one| a bit| by one)?",
    )
    for pattern in patterns:
        match = re.fullmatch(pattern, text)
        if not match:
            continue
        groups = match.groupdict()
        ref = parse_ref(groups["ref"])
        if ref is None:
            continue
        if groups.get("anchor"):
            direction = "before" if groups["dir"] in ("before", "above") else "after"
            return Intent(
                "move",
                {"target": ref, "position": direction, "anchor": parse_ref(groups["anchor"])},
            )
        if groups.get("edge"):
            start = groups["edge"] in ("top", "beginning", "start")
            return Intent(
                "move", {"target": ref, "position": "start" if start else "end", "anchor": None}
            )
        return Intent("move", {"target": ref, "position": groups["step"], "anchor": None})
    return None


def _match_select(text, original):
    match = re.fullmatch(
        rf"(?:select|pick|choose|highlight|focus(?: on)?|go to|click(?: on)?) "
        rf"(?P<ref>{REF})",
        text,
    )
    if match and (ref := parse_ref(match.group("ref"))) and not ref.pronoun:
        return Intent("select", {"target": ref})
    return None


MATCHERS = (
    _match_undo_redo,
    _match_small_talk,
    _match_describe,
    _match_insert,
    _match_move,
    _match_delete,
    _match_align,
    _match_background,
    _match_font_size,
    _match_color,
    _match_text,
    _match_select,
)


def parse(utterance: str) -> Intent | None:
    """Understand one utterance; None when it is not something this brain can do."""
    text = normalize(utterance)
    if not text:
        return None
    for matcher in MATCHERS:
        intent = matcher(text, utterance)
        if intent is not None:
            return intent
    return None


# --- resolving references against the page -----------------------------------------------


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
    ordinal = {
        v: k
        for k, v in ORDINALS.items()
        if k not in ("top", "bottom", "final", "1st", "2nd", "3rd", "4th", "5th")
    }
    parts = ["the"]
    if ref.ordinal is not None:
        parts.append(ordinal.get(ref.ordinal, ""))
    parts.append(ref.type or "block")
    if ref.words:
        parts.append(f"about {ref.words}")
    return " ".join(part for part in parts if part)
