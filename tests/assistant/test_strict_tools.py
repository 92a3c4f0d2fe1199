"""Tools declared in strict mode, as OpenAI's Agents SDK declares them: every property
required, the optional ones nullable. The `commands` brain fills what it means and sets the
rest to null; a property that is required but cannot be null still makes it refuse."""

import json

from agents import function_tool

from mrblue.commands_brain.tool_args import fit_arguments
from tests.support.brain_turns import play_turn, user

PAGE = {
    "blocks": [
        {"id": "heading", "type": "heading", "text": "Mundo Tango", "style": {}},
        {"id": "cta", "type": "button", "text": "Join a class", "style": {}},
    ],
    "selected": None,
}


@function_tool
def describe_page() -> str:
    """The page's blocks."""
    return json.dumps(PAGE)


@function_tool
def update_style(block_id: str, color: str | None = None, background: str | None = None) -> str:
    """Change a block's text colour or background."""
    return "ok"


def as_declared(tool) -> dict:
    """The tool as the Agents SDK sends it in `session.update` (its own strict schema)."""
    return {
        "type": "function",
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.params_json_schema,
    }


def test_the_sdk_declares_every_property_required():
    schema = update_style.params_json_schema
    assert update_style.strict_json_schema
    assert schema["required"] == ["block_id", "color", "background"]
    assert {"type": "null"} in schema["properties"]["background"]["anyOf"]


def test_what_a_strict_schema_allows_as_null_is_filled_with_null():
    arguments = fit_arguments(as_declared(update_style), {"block_id": "heading", "color": "blue"})
    assert json.loads(arguments) == {"block_id": "heading", "color": "blue", "background": None}


def test_a_type_list_with_null_is_filled_too():
    tool = {
        "name": "update_style",
        "parameters": {
            "type": "object",
            "properties": {
                "block_id": {"type": "string"},
                "color": {"type": ["string", "null"]},
                "background": {"type": ["string", "null"]},
            },
            "required": ["block_id", "color", "background"],
            "additionalProperties": False,
        },
    }
    arguments = fit_arguments(tool, {"block_id": "cta", "background": "red"})
    assert json.loads(arguments) == {"block_id": "cta", "color": None, "background": "red"}


def test_a_required_property_that_cannot_be_null_still_refuses():
    tool = as_declared(update_style)
    tool["parameters"] = {
        **tool["parameters"],
        "properties": {**tool["parameters"]["properties"], "background": {"type": "string"}},
    }
    assert fit_arguments(tool, {"block_id": "heading", "color": "blue"}) is None


def test_the_brain_edits_through_strict_tools():
    tools = [as_declared(describe_page), as_declared(update_style)]
    _, result = play_turn([user("Make the heading blue.")], PAGE, tools)
    assert result == (
        "call",
        "update_style",
        {"block_id": "heading", "color": "blue", "background": None},
    )
