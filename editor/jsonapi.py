"""The project's JSON API conventions: one error shape, and request bodies read safely.

Every error answer is `{"error": {"code": "<machine word>", "message": "<for a person>"}}`
with a fitting status; the editor's endpoints and Mr. Blue's API both answer this way.
"""

import json
import re
from typing import Any

from django.http import JsonResponse

# What JSON can carry but no database stores: NUL (PostgreSQL refuses it in text and jsonb)
# and half a UTF-16 pair ("\ud83d" alone is valid JSON, but it is not text).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def json_error(status: int, code: str, message: str, retry_after: int | None = None):
    """An error answer (with `Retry-After` when the client should wait)."""
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


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
