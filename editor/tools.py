"""The page-editing tools Mr. Blue may call, described once as Realtime GA function tools.

The session object sends them to the model; the browser runs them; the offline `commands` brain
reads their schemas to build its calls. Keep names and schemas stable: they are a contract.

Outputs (the `function_call_output` the browser sends back) are JSON too:
- `describe_page`: `{"blocks": [{"id", "type", "text" | "src", "style"}...], "selected": id|null}`;
- every other tool: `{"ok": true, ...}` on success, `{"ok": false, "error": "<why>"}` otherwise.
"""

from editor.blocks import ALIGNMENTS, BLOCK_TYPES, FONT_SIZE_RANGE

_BLOCK_ID = {"type": "string", "description": "The block's id, as describe_page lists it."}
_COLOR = {
    "type": "string",
    "description": "A colour name (red, blue, ...) or a hex value like #1e88e5.",
}


def _tool(name: str, description: str, properties: dict, required: list[str]) -> dict:
    return {
        "type": "function",
        "name": name,
        "description": description,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
    }


EDITOR_TOOLS = [
    _tool(
        "describe_page",
        "List the page's blocks in order, with ids, types, text and styles.",
        {},
        [],
    ),
    _tool("select_block", "Select a block on the canvas.", {"block_id": _BLOCK_ID}, ["block_id"]),
    _tool(
        "update_text",
        "Replace the text of a heading, paragraph or button.",
        {"block_id": _BLOCK_ID, "text": {"type": "string", "maxLength": 5000}},
        ["block_id", "text"],
    ),
    _tool(
        "update_style",
        "Change how a block looks. Give only the properties to change.",
        {
            "block_id": _BLOCK_ID,
            "color": _COLOR,
            "background": _COLOR,
            "font_size": {
                "type": "integer",
                "minimum": FONT_SIZE_RANGE[0],
                "maximum": FONT_SIZE_RANGE[1],
                "description": "Font size in pixels.",
            },
            "align": {"type": "string", "enum": list(ALIGNMENTS)},
        },
        ["block_id"],
    ),
    _tool(
        "insert_block",
        "Add a new block before or after another block, or at the end of the page.",
        {
            "type": {"type": "string", "enum": list(BLOCK_TYPES)},
            "text": {"type": "string", "description": "Text, or the image URL for an image."},
            "position": {"type": "string", "enum": ["before", "after", "end"]},
            "relative_to": {**_BLOCK_ID, "description": "The block to insert next to."},
        },
        ["type", "text", "position"],
    ),
    _tool("delete_block", "Remove a block from the page.", {"block_id": _BLOCK_ID}, ["block_id"]),
    _tool(
        "move_block",
        "Move a block before or after another block.",
        {
            "block_id": _BLOCK_ID,
            "position": {"type": "string", "enum": ["before", "after"]},
            "relative_to": _BLOCK_ID,
        },
        ["block_id", "position", "relative_to"],
    ),
    _tool("undo", "Undo the last change to the page.", {}, []),
    _tool("redo", "Redo the last undone change.", {}, []),
]


def editor_tools() -> list[dict]:
    """A fresh copy of the tool definitions, safe for the caller to change."""
    import copy

    return copy.deepcopy(EDITOR_TOOLS)
