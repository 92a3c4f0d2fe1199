"""Page edits as pure functions on a list of blocks: what each page tool does.

`apply(blocks, name, arguments)` returns the new blocks and a short result, or raises
`ToolError` with words the model can say back. The arguments were checked against the tool's
JSON schema first (`check_arguments`).
"""

import copy

import jsonschema

from editor.blocks import describe_block, new_block_id, normalize_style, validate_blocks
from editor.tools import EDITOR_TOOLS

TOOLS = {tool["name"]: tool for tool in EDITOR_TOOLS}
EDITS = ("update_text", "update_style", "insert_block", "delete_block", "move_block")


class ToolError(Exception):
    """A tool call that cannot be carried out; the message is for the model to explain."""


def check_arguments(name: str, arguments) -> dict:
    """Validate a call against its tool's schema; return the arguments."""
    tool = TOOLS.get(name)
    if tool is None:
        raise ToolError(f"There is no tool called {name!r}.")
    try:
        jsonschema.validate(arguments, tool["parameters"])
    except jsonschema.ValidationError as exc:
        where = ".".join(str(p) for p in exc.absolute_path) or "arguments"
        raise ToolError(f"Invalid arguments for {name} ({where}): {exc.message}") from None
    return arguments


def _find(blocks: list[dict], block_id: str) -> int:
    for index, block in enumerate(blocks):
        if block["id"] == block_id:
            return index
    raise ToolError(f"There is no block with id {block_id!r} on this page.")


def apply(blocks: list[dict], name: str, arguments: dict) -> tuple[list[dict], str]:
    """Carry out one edit; return (new blocks, what changed in words)."""
    blocks = copy.deepcopy(blocks)
    result = globals()[f"_{name}"](blocks, arguments)
    try:
        return validate_blocks(blocks), result
    except Exception as exc:  # a value the schema let through but a page cannot hold
        raise ToolError(str(getattr(exc, "message", exc))) from None


def _update_text(blocks, args):
    block = blocks[_find(blocks, args["block_id"])]
    if block["type"] == "image":
        raise ToolError("That block is an image; it has no text to change.")
    block["text"] = args["text"]
    return f"{block['type']} now says {args['text']!r}"


def _update_style(blocks, args):
    block = blocks[_find(blocks, args["block_id"])]
    changes = {
        key: args[key] for key in ("color", "background", "font_size", "align") if key in args
    }
    if not changes:
        raise ToolError("Say what to change: color, background, font_size or align.")
    try:
        block["style"] = {**block.get("style", {}), **normalize_style(changes)}
    except ValueError as exc:
        raise ToolError(str(exc)) from None
    return f"changed {', '.join(changes)} of {describe_block(block)}"


def _insert_block(blocks, args):
    kind = args["type"]
    block = {"id": new_block_id(), "type": kind, "style": {}}
    block["src" if kind == "image" else "text"] = args["text"]
    if kind == "image":
        block["alt"] = ""
    position = args["position"]
    if position == "end":
        blocks.append(block)
    else:
        if "relative_to" not in args:
            raise ToolError(f"Say which block to insert {position}.")
        index = _find(blocks, args["relative_to"])
        blocks.insert(index if position == "before" else index + 1, block)
    return f"added {describe_block(block)} with id {block['id']}"


def _delete_block(blocks, args):
    block = blocks.pop(_find(blocks, args["block_id"]))
    return f"deleted {describe_block(block)}"


def _move_block(blocks, args):
    if args["block_id"] == args["relative_to"]:
        raise ToolError("A block cannot move next to itself.")
    block = blocks.pop(_find(blocks, args["block_id"]))
    index = _find(blocks, args["relative_to"])
    blocks.insert(index if args["position"] == "before" else index + 1, block)
    return f"moved {describe_block(block)} {args['position']} block {args['relative_to']}"
