"""Field checks for client events, raising ProtocolError with OpenAI's codes and wording."""

from mrblue.engine.protocol.events import ProtocolError

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a decimal",
    bool: "a boolean",
    dict: "an object",
    list: "an array",
}
_MISSING = object()


def _describe(value) -> str:
    for kind, name in (
        (bool, "a boolean"),
        (str, "a string"),
        (int, "an integer"),
        (float, "a decimal"),
        (dict, "an object"),
        (list, "an array"),
    ):
        if isinstance(value, kind):
            return name
    return "null" if value is None else "an unknown type"


def _matches(value, kinds) -> bool:
    if isinstance(value, bool) and bool not in kinds:
        return False  # JSON booleans are not numbers
    if isinstance(value, int) and float in kinds:
        return True
    return isinstance(value, kinds)


def get(obj: dict, key: str, kinds, param: str, *, required=False, default=None, nullable=False):
    """Read `obj[key]`, checking its JSON type; `param` is the dotted name errors use."""
    value = obj.get(key, _MISSING)
    if value is _MISSING:
        if required:
            raise ProtocolError(
                "missing_required_parameter", f"Missing required parameter: '{param}'.", param
            )
        return default
    if value is None and nullable:
        return None
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if not _matches(value, kinds):
        expected = " or ".join(_TYPE_NAMES[k] for k in kinds)
        raise ProtocolError(
            "invalid_type",
            f"Invalid type for '{param}': expected {expected}, but got {_describe(value)} instead.",
            param,
        )
    return value


def choice(value, allowed, param: str):
    """Check that `value` is one of `allowed`."""
    if value not in allowed:
        listed = ", ".join(f"'{a}'" for a in allowed)
        raise ProtocolError(
            "invalid_value", f"Invalid value: '{value}'. Supported values are: {listed}.", param
        )
    return value


def number_in(value, low, high, param: str):
    """Check that a number lies in [low, high]."""
    if not low <= value <= high:
        raise ProtocolError(
            "decimal_above_max_value" if value > high else "decimal_below_min_value",
            f"Invalid '{param}': expected a value between {low} and {high}, "
            f"but got {value} instead.",
            param,
        )
    return value


def no_unknown(obj: dict, known, prefix: str):
    """Refuse keys the protocol does not define, naming the first one."""
    for key in obj:
        if key not in known:
            param = f"{prefix}.{key}" if prefix else key
            raise ProtocolError("unknown_parameter", f"Unknown parameter: '{param}'.", param)


def nesting_within(value, limit: int, param: str) -> None:
    """Refuse JSON nested more than `limit` arrays or objects deep (checked without
    recursion: the value may be nested as deep as the JSON parser allows)."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if not isinstance(current, dict | list):
            continue
        if depth > limit:
            raise ProtocolError(
                "invalid_value", f"'{param}' is nested more than {limit} levels deep.", param
            )
        children = current.values() if isinstance(current, dict) else current
        stack.extend((child, depth + 1) for child in children)
