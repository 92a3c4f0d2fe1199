"""Fitting what the user meant onto a tool's declared JSON schema.

The commands brain knows meanings ("the block", "a colour"), not a tool's property names: it
reads each tool's schema, finds the property for each meaning by its usual names, and checks
the result against the schema before calling. A tool whose schema it cannot fill is not called.

The schema's `pattern`s are not checked: they are the client's regular expressions, and one
like `(a+)+$` takes exponential time on the user's words. The page checks its own arguments.
"""

import json
from functools import cache

import jsonschema
import referencing
import referencing.exceptions

SYNONYMS = {
    "block_id": ("block_id", "id", "block", "target", "target_id", "element_id", "blockId"),
    "color": ("color", "colour", "text_color", "foreground", "textColor"),
    "background": ("background", "background_color", "bg", "backgroundColor"),
    "font_size": ("font_size", "size", "fontSize", "font_size_px"),
    "align": ("align", "alignment", "text_align", "textAlign"),
    "text": ("text", "content", "label", "value", "src", "new_text"),
    "type": ("type", "block_type", "kind"),
    "position": ("position", "where", "placement"),
    "relative_to": ("relative_to", "anchor", "reference", "relative_block_id", "near"),
}


def find_tool(tools: list[dict], name: str) -> dict | None:
    """The function tool called `name`, if the session declares it."""
    return next(
        (t for t in tools if t.get("type", "function") == "function" and t.get("name") == name),
        None,
    )


def fit_arguments(tool: dict, meanings: dict) -> str | None:
    """JSON arguments for `tool` carrying `meanings`, or None if its schema can't take them."""
    schema = tool.get("parameters") or {"type": "object", "properties": {}}
    properties = _properties(schema)
    arguments = {}
    for meaning, value in meanings.items():
        if value is None:
            continue
        name = next((n for n in SYNONYMS.get(meaning, (meaning,)) if n in properties), None)
        if name is None:
            return None
        enum = properties[name].get("enum")
        if isinstance(enum, list) and value not in enum:
            return None
        arguments[name] = value
    _fill_nulls(schema, properties, arguments)
    try:
        validator = _without_patterns(jsonschema.validators.validator_for(schema))
        validator.check_schema(schema)
        # No registry retrieval: a client's `$ref` to a URL must not make the server fetch it.
        checker = validator(schema, registry=referencing.Registry())
        error = next(checker.iter_errors(arguments), None)
    except (jsonschema.SchemaError, referencing.exceptions.Unresolvable, RecursionError):
        return None
    return None if error is not None else json.dumps(arguments)


def _fill_nulls(schema: dict, properties: dict, arguments: dict) -> None:
    """Set to null each property the schema requires but the meanings left out. Strict-mode
    tools (the OpenAI Agents SDK's) require every property and make the optional ones
    nullable (`"type": ["string", "null"]`, or `anyOf` with `{"type": "null"}`): null is how
    they say "not this one". A required property that does not allow null is left out, and
    the schema's check then refuses the arguments, as before."""
    required = schema.get("required")
    for name in required if isinstance(required, list) else []:
        if isinstance(name, str) and name not in arguments and name in properties:
            arguments[name] = None


def _properties(schema) -> dict:
    """A schema's properties that are schemas themselves (a client may send anything)."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return {}
    return {name: value for name, value in properties.items() if isinstance(value, dict)}


@cache
def _without_patterns(validator):
    """The validator class, with the `pattern` keyword left out."""
    return jsonschema.validators.extend(validator, {"pattern": None})


def property_range(tool: dict, meaning: str) -> tuple[int | None, int | None]:
    """The (minimum, maximum) the tool allows for a numeric meaning, if it says."""
    properties = _properties(tool.get("parameters") or {})
    name = next((n for n in SYNONYMS.get(meaning, (meaning,)) if n in properties), None)
    if name is None:
        return None, None
    return _number(properties[name].get("minimum")), _number(properties[name].get("maximum"))


def _number(value) -> int | float | None:
    """A schema's bound, if it is a number (the client may have written anything)."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None
