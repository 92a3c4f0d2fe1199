"""What a request does on the page: the tool call that carries it out (its arguments fitted
to the session's tools), and the words that say it back ("Done. The heading is blue now."),
ask which block was meant, or describe the page. Pure functions of the request and the page's
blocks, for the `commands` brain (`brain`)."""

import re

from mrblue.commands_brain.intents import Intent
from mrblue.commands_brain.references import SPOKEN_ORDINALS, describe_ref, matches, resolve
from mrblue.commands_brain.tool_args import fit_arguments, property_range
from mrblue.engine.brains import FunctionCall, TextDelta

DEFAULT_FONT_SIZES = {"heading": 32, "paragraph": 16, "button": 16, "image": 16}
DEFAULT_TEXT = {"heading": "New heading", "paragraph": "New paragraph", "button": "Click me"}

NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}

MAX_CHOICES = 4  # blocks named in a "which one" question
# The question about a guess: a "yes" to it does the request the guess's sentence says.

QUESTIONS = {
    "color": "Which colour should {what} be?",
    "background": "Which background colour should {what} get?",
    "font_size": "Should {what} be bigger or smaller?",
    "position": "Where should I move {what}: up, down, to the top or to the bottom?",
    "text": "What should {what} say?",
    "type": "What should I add: a heading, a paragraph, a button or an image?",
    "property": "What should I change about {what}: its colour, background, size or alignment?",
}


def unclear(intent: Intent, blocks: list, selected: str | None) -> str | None:
    """The question (or the explanation) a request needs before it can be carried out: which
    block, when its reference fits several or none; else the first slot it left out."""
    target = intent.slots.get("target")
    if target is not None:
        found = matches(target, blocks, selected)
        if len(found) > 1:
            return f"Which one: {choices(found, blocks)}?"
        if not found:
            if target.pronoun and blocks:
                return f"Nothing is selected. Which one: {choices(blocks, blocks)}?"
            return not_found(target, blocks)
    if not intent.missing:
        return None
    slot = intent.missing[0]
    if slot == "target":
        return f"Which one: {choices(blocks, blocks)}?" if blocks else "The page is empty."
    block = resolve(target, blocks, selected) if target is not None else None
    what = f"the {block['type']}" if block else "it"
    return QUESTIONS.get(slot, "What should I change?").format(what=what)


def choices(found: list, blocks: list) -> str:
    """'the heading, the first paragraph or the button': blocks named so they can be told
    apart (at most `MAX_CHOICES`; past that, by kind)."""
    if len(found) > MAX_CHOICES:
        kinds = list(dict.fromkeys(b.get("type", "block") for b in found))
        names = [f"a {kind}" for kind in kinds]
    else:
        names = [block_name(block, blocks) for block in found]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def block_name(block: dict, blocks: list) -> str:
    """How to name one block aloud: 'the button', or 'the second paragraph' among several."""
    kind = block.get("type", "block")
    same = [b for b in blocks if b.get("type") == kind]
    if len(same) == 1:
        return f"the {kind}"
    place = same.index(block) + 1
    return f"the {SPOKEN_ORDINALS.get(place, f'number {place}')} {kind}"


def act(intent: Intent, tool: dict, blocks: list, selected: str | None) -> list:
    slots = intent.slots
    if intent.name == "insert":
        return insert(slots, tool, blocks, selected)
    target = resolve(slots["target"], blocks, selected)
    if target is None:
        return say(not_found(slots["target"], blocks))
    meanings = {"block_id": target["id"]}
    if intent.name == "style":
        meanings.update(style_meanings(slots, target, tool))
    elif intent.name == "text":
        if target.get("type") == "image":
            return say("That's an image, so it has no text to change.")
        meanings["text"] = slots["text"]
    elif intent.name == "move":
        placement = move_placement(slots, target, blocks, selected)
        if isinstance(placement, str):
            return say(placement)
        meanings.update(placement)
    arguments = fit_arguments(tool, meanings)
    if arguments is None:
        return say("The page tools of this conversation don't let me do that.")
    return [FunctionCall(tool["name"], arguments)]


def style_meanings(slots, target, tool) -> dict:
    meanings = {key: slots[key] for key in ("color", "background", "align") if key in slots}
    size = slots.get("font_size")
    if isinstance(size, str):
        current = (target.get("style") or {}).get("font_size") or DEFAULT_FONT_SIZES.get(
            target.get("type"), 16
        )
        size = round(current * 1.25) if size == "bigger" else round(current / 1.25)
    if size is not None:
        low, high = property_range(tool, "font_size")
        size = max(low or size, min(high or size, size))
        meanings["font_size"] = size
    return meanings


def insert(slots, tool, blocks, selected) -> list:
    block_type = slots["type"]
    text = slots["text"] or DEFAULT_TEXT.get(block_type, "")
    if block_type == "image" and not re.match(r"https?://|/", text):
        return say(
            "To add an image I need its web address. Try: add an image with "
            "https://example.com/photo.jpg."
        )
    position, anchor = slots["position"], None
    if position in ("before", "after"):
        anchor = anchor_block(slots["anchor"], blocks, selected)
        if anchor is None:
            return say(not_found(slots["anchor"], blocks))
    elif position == "start" and blocks:
        position, anchor = "before", blocks[0]
    elif position == "auto":
        anchor = next((b for b in blocks if b.get("id") == selected), None)
        position = "after" if anchor else "end"
    if position == "start":
        position = "end"  # an empty page: the start is the end
    meanings = {
        "type": block_type,
        "text": text,
        "position": position,
        "relative_to": anchor["id"] if anchor else None,
    }
    arguments = fit_arguments(tool, meanings)
    if arguments is None:
        return say("The page tools of this conversation don't let me add that.")
    return [FunctionCall(tool["name"], arguments)]


def anchor_block(ref, blocks, selected) -> dict | None:
    """The block something goes next to: "after the paragraph" takes the first that fits."""
    return next(iter(matches(ref, blocks, selected)), None) if ref is not None else None


def move_placement(slots, target, blocks, selected):
    ids = [b.get("id") for b in blocks]
    index = ids.index(target["id"])
    position = slots["position"]
    if position in ("before", "after"):
        anchor = anchor_block(slots["anchor"], blocks, selected)
        if anchor is None:
            return not_found(slots["anchor"], blocks)
        if anchor["id"] == target["id"]:
            return "I can't move a block next to itself."
        return {"position": position, "relative_to": anchor["id"]}
    if position in ("start", "up"):
        if index == 0:
            return "It's already at the top of the page."
        anchor = blocks[0] if position == "start" else blocks[index - 1]
        return {"position": "before", "relative_to": anchor["id"]}
    if index == len(blocks) - 1:
        return "It's already at the bottom of the page."
    anchor = blocks[-1] if position == "end" else blocks[index + 1]
    return {"position": "after", "relative_to": anchor["id"]}


def confirmation(tool_name, intent, blocks, selected) -> str:
    if tool_name == "undo":
        return "Done, I undid the last change."
    if tool_name == "redo":
        return "Done, I redid the change."
    if intent is None:
        return "Done."
    slots = intent.slots
    what = spoken_ref(slots.get("target"), blocks, selected)
    if tool_name == "update_style":
        if "color" in slots:
            return f"Done. {what} is {colour_name(slots['color'])} now."
        if "background" in slots:
            return f"Done. {what} has a {colour_name(slots['background'])} background now."
        if "align" in slots:
            aligned = "centred" if slots["align"] == "center" else f"aligned {slots['align']}"
            return f"Done. {what} is {aligned} now."
        return f"Done. I changed the size of {what.lower()}."
    if tool_name == "update_text":
        return f'Done. {what} now says "{slots["text"]}".'
    if tool_name == "insert_block":
        text = slots["text"] or DEFAULT_TEXT.get(slots["type"], "")
        return f'Done. I added a {slots["type"]} that says "{text}".'
    if tool_name == "delete_block":
        return f"Done. I deleted {what.lower()}."
    if tool_name == "move_block":
        return f"Done. I moved {what.lower()}."
    if tool_name == "select_block":
        return f"Selected {what.lower()}."
    return "Done."


def spoken_ref(ref, blocks, selected) -> str:
    if ref is None:
        return "The block"
    if ref.pronoun:
        block = resolve(ref, blocks, selected)
        return f"The {block['type']}" if block else "The selected block"
    text = describe_ref(ref)
    return text[0].upper() + text[1:]


def colour_name(value: str) -> str:
    return "that colour" if value.startswith("#") else value


def not_found(ref, blocks) -> str:
    if ref is not None and ref.pronoun:
        return "Nothing is selected. Click a block first, or tell me which one, like: the heading."
    what = describe_ref(ref) if ref else "that block"
    return f"I couldn't find {what} on this page, so I changed nothing. {summary(blocks)}"


def summary(blocks) -> str:
    if not blocks:
        return "The page is empty."
    counts: dict[str, int] = {}
    for block in blocks:
        counts[block.get("type", "block")] = counts.get(block.get("type", "block"), 0) + 1
    parts = [
        f"a {kind}" if n == 1 else f"{NUMBER_WORDS.get(n, n)} {kind}s" for kind, n in counts.items()
    ]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"It has {listed}."


def describe_page(blocks) -> str:
    if not blocks:
        return "The page is empty."
    spoken = []
    for block in blocks[:8]:
        words = (block.get("text") or block.get("alt") or "").strip()
        short = words if len(words) <= 50 else words[:47].rsplit(" ", 1)[0] + "..."
        spoken.append(f'a {block.get("type")} "{short}"' if short else f"an {block.get('type')}")
    more = f", and {len(blocks) - 8} more" if len(blocks) > 8 else ""
    return f"This page has {len(blocks)} blocks: " + "; ".join(spoken) + more + "."


def say(text: str) -> list:
    """Split an answer into a few deltas, as a streaming model would send it."""
    words = text.split(" ")
    return [
        TextDelta(" ".join(words[i : i + 4]) + (" " if i + 4 < len(words) else ""))
        for i in range(0, len(words), 4)
    ]
