"""Page content as an ordered list of blocks: the shape, its validation, small helpers.

A block is `{"id", "type", "text" | "src", "style": {...}}`. Everything here is pure: it takes
and returns plain data, so models, views, tools and the engine's brain share one definition.
"""

import re
import secrets

from django.core.exceptions import ValidationError

BLOCK_TYPES = ("heading", "paragraph", "button", "image")
STYLE_KEYS = ("color", "background", "font_size", "align")
ALIGNMENTS = ("left", "center", "right", "justify")
FONT_SIZE_RANGE = (8, 96)
MAX_TEXT_LENGTH = 5000
MAX_BLOCKS = 500

# CSS named colours people say out loud; anything else must be a hex value.
NAMED_COLORS = {
    "black": "#000000",
    "white": "#ffffff",
    "red": "#e53935",
    "green": "#43a047",
    "blue": "#1e88e5",
    "navy": "#001f3f",
    "yellow": "#fdd835",
    "orange": "#fb8c00",
    "purple": "#8e24aa",
    "pink": "#d81b60",
    "gray": "#757575",
    "grey": "#757575",
    "brown": "#6d4c41",
    "teal": "#00897b",
    "cyan": "#00acc1",
    "gold": "#ffb300",
}
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def new_block_id() -> str:
    """A short random id, stable for the life of the block."""
    return "b-" + secrets.token_hex(4)


def normalize_color(value: str) -> str:
    """Return `value` as a lowercase hex colour, accepting a colour name; raise ValueError."""
    if not isinstance(value, str):
        raise ValueError("a colour is a name or a hex value like #1e88e5")
    cleaned = value.strip().lower()
    if cleaned in NAMED_COLORS:
        return NAMED_COLORS[cleaned]
    if _HEX.match(cleaned):
        return cleaned
    raise ValueError(f"unknown colour {value!r}: use a name ({', '.join(NAMED_COLORS)}) or hex")


def normalize_style(style: dict) -> dict:
    """Validate a style map and return it normalised; raise ValueError naming the bad key."""
    if not isinstance(style, dict):
        raise ValueError("style must be an object")
    result = {}
    for key, value in style.items():
        if key not in STYLE_KEYS:
            raise ValueError(f"unknown style {key!r}: allowed are {', '.join(STYLE_KEYS)}")
        if key in ("color", "background"):
            result[key] = normalize_color(value)
        elif key == "font_size":
            low, high = FONT_SIZE_RANGE
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"font_size must be a whole number of pixels from {low} to {high}")
            result[key] = value
        elif key == "align":
            if value not in ALIGNMENTS:
                raise ValueError(f"align must be one of {', '.join(ALIGNMENTS)}")
            result[key] = value
    return result


def validate_block(block) -> dict:
    """Return a normalised copy of one block; raise ValueError with a clear message."""
    if not isinstance(block, dict):
        raise ValueError("a block must be an object")
    block_id = block.get("id")
    if not isinstance(block_id, str) or not _ID.match(block_id):
        raise ValueError("a block needs an id of letters, digits, '-' or '_'")
    block_type = block.get("type")
    if block_type not in BLOCK_TYPES:
        raise ValueError(f"block {block_id}: type must be one of {', '.join(BLOCK_TYPES)}")
    result = {"id": block_id, "type": block_type}
    field = "src" if block_type == "image" else "text"
    value = block.get(field, "")
    if not isinstance(value, str) or len(value) > MAX_TEXT_LENGTH:
        raise ValueError(f"block {block_id}: {field} must be text of at most {MAX_TEXT_LENGTH}")
    result[field] = value
    if block_type == "image":
        alt = block.get("alt", "")
        if not isinstance(alt, str):
            raise ValueError(f"block {block_id}: alt must be text")
        result["alt"] = alt
    try:
        result["style"] = normalize_style(block.get("style") or {})
    except ValueError as exc:
        raise ValueError(f"block {block_id}: {exc}") from None
    return result


def validate_blocks(blocks) -> list[dict]:
    """Validate a whole page's content; raise django's ValidationError on the first problem."""
    if not isinstance(blocks, list):
        raise ValidationError("Content must be a list of blocks.")
    if len(blocks) > MAX_BLOCKS:
        raise ValidationError(f"A page holds at most {MAX_BLOCKS} blocks.")
    seen = set()
    result = []
    for block in blocks:
        try:
            clean = validate_block(block)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        if clean["id"] in seen:
            raise ValidationError(f"Block id {clean['id']} is used twice.")
        seen.add(clean["id"])
        result.append(clean)
    return result


def describe_block(block: dict) -> str:
    """A short human description of a block, e.g. `heading "Mundo Tango"`."""
    label = block.get("text") or block.get("alt") or block.get("src") or ""
    if len(label) > 60:
        label = label[:57] + "..."
    return f'{block["type"]} "{label}"' if label else block["type"]
