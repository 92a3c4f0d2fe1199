"""Reading JSON from the outside world, where any failure is a `ValueError`.

`json.loads` raises `RecursionError` for deeply nested input (`[[[[…`), which no caller expects
from bad input: here it is a `ValueError` like any other malformed JSON. Two readers:

- `parse_json`: the engine's client events and requests, and the sockets. It also accepts a
  lone surrogate escape (`"\\ud800"`), a string no UTF-8 encoder, database or speech model
  takes later; strict parsers (and RFC 8259's interoperable JSON) refuse it, and so does this
  one when asked (`strict_text`; the app's callers check their strings themselves, naming the
  field).
- `read_json`: request bodies the web app stores: it also refuses text no database stores.
"""

import json
import re
from typing import Any

# What JSON can carry but no database stores: NUL (PostgreSQL refuses it in text and jsonb)
# and half a UTF-16 pair ("\ud83d" alone is valid JSON, but it is not text).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# Only an escape can put a surrogate into a parsed string (UTF-8 input cannot encode one).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def parse_json(text: str | bytes, *, strict_text: bool = False) -> Any:
    """`json.loads(text)`, raising `ValueError` for anything that is not usable JSON (with
    `strict_text`, also for a string holding a lone surrogate)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("The JSON is nested too deeply.") from None
    if strict_text and _may_hold_a_surrogate(text) and _has_lone_surrogate(value):
        raise ValueError("The JSON has a lone surrogate escape (not a Unicode character).")
    return value


def _may_hold_a_surrogate(text: str | bytes) -> bool:
    """A quick look at the text: could it have a surrogate escape? (Bytes not in UTF-8,
    which `json.loads` also reads, are not looked at: the parsed value is checked.)"""
    if isinstance(text, str):
        return _SURROGATE_ESCAPE.search(text) is not None
    if json.detect_encoding(text) != "utf-8":
        return True
    return _SURROGATE_ESCAPE_BYTES.search(text) is not None


def _has_lone_surrogate(value) -> bool:
    """Whether any string (or key) in a parsed value holds a lone surrogate (a pair is
    joined into one character by the parser). Without recursion: values nest deep."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            try:
                current.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return False


def read_json(text: str | bytes) -> Any:
    """`json.loads(text)`, raising `ValueError` (with a message for the client) for anything
    that is not usable JSON, or that holds text a database cannot store."""
    try:
        value = json.loads(text)
    except RecursionError:
        # Deeply nested input (`[[[[…`) is malformed JSON to us, not a crash.
        raise ValueError("The JSON is nested too deeply.") from None
    if _holds_unstorable_text(value):
        raise ValueError(
            "The JSON holds a NUL character or half a UTF-16 surrogate pair, which is not text."
        )
    return value


def _holds_unstorable_text(value: Any) -> bool:
    # A loop, not recursion: the value may be nested as deeply as json.loads allows.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def read_json_object(raw: bytes, example: str) -> dict:
    """A request body that must be a JSON object (an empty body reads as `null`), or
    `ValueError` saying what is wrong, showing `example` of what to send."""
    try:
        body = read_json(raw or b"null")
    except ValueError as error:
        raise ValueError(f"The request body is not usable JSON: {error}") from None
    if not isinstance(body, dict):
        raise ValueError(f"Send a JSON object like {example}.")
    return body
