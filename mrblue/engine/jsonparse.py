"""Parsing JSON from the outside world, where any failure is a `ValueError`.

`json.loads` raises `RecursionError` for deeply nested input (`[[[[…`), which no caller expects
from bad input: here it is a `ValueError` like any other malformed JSON. JSON may also escape
half a UTF-16 pair (`"\\ud83d"` alone), which is not text: it cannot be encoded to send on, or
stored, so it is refused here too (as I-JSON, RFC 7493, does).
"""

import json
import re
from typing import Any

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json(text: str | bytes) -> Any:
    """`json.loads(text)`, raising `ValueError` for anything that is not usable JSON."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("The JSON is nested too deeply.") from None
    if _holds_lone_surrogate(value):
        raise ValueError("The JSON holds half a UTF-16 surrogate pair, which is not text.")
    return value


def _holds_lone_surrogate(value: Any) -> bool:
    # A loop, not recursion: the value may be nested as deeply as json.loads allows.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii() and _LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
