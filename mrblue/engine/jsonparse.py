"""Parsing JSON from the outside world, where any failure is a `ValueError`.

`json.loads` raises `RecursionError` for deeply nested input (`[[[[…`), which no caller expects
from bad input: here it is a `ValueError` like any other malformed JSON.
"""

import json
from typing import Any


def parse_json(text: str | bytes) -> Any:
    """`json.loads(text)`, raising `ValueError` for anything that is not usable JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("The JSON is nested too deeply.") from None
