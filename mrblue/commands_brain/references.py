"""Block references as said ("the second paragraph", "it", "the paragraph about tango"):
read from the words (`parse_ref`), then set against the page's blocks (`matches`, `resolve`)
and said back (`describe_ref`)."""

import re
from dataclasses import dataclass

from mrblue.commands_brain.lexicon import (
    ORDINAL_WORDS,
    ORDINALS,
    PRONOUNS,
    REF_WORDS,
    TYPE_WORDS,
    one_of,
    without_groups,
)
from mrblue.commands_brain.matcher import best_block


@dataclass
class Ref:
    """A reference to a block, as said: 'the second paragraph', 'it', 'the button'."""

    type: str | None = None
    ordinal: int | None = None
    pronoun: bool = False
    words: str | None = None  # 'the paragraph about milongas' -> 'milongas'
    said: str = ""
    noun: str = ""  # the word that named the type ('intro'), matched against block ids too


# --- block references and places (normalized text has single spaces only) -----------------

# Lazy, so a reference's words end where the rest of the rule can begin; bounded, so trying
# every place they could end costs a constant, however long the text.
_WORD = r"[\w'-]{1,30}?"
_REF_PARTS = re.compile(
    rf"(?:(?:the|this|that|my|our) )?(?:(?P<ord>{one_of(ORDINALS)}) )?(?:(?:main|page|big|new) )?"
    rf"(?P<type>{one_of(TYPE_WORDS)})(?: (?:text|block|element))?"
    rf"(?: (?:about|with|mentioning) (?P<words>{_WORD}(?: {_WORD}){{0,{REF_WORDS - 1}}}?))?"
)
REF = rf"{without_groups(_REF_PARTS.pattern)}|{one_of(PRONOUNS)}"


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
