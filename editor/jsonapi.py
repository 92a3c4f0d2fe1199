"""The project's JSON API conventions: one error shape, and request bodies read safely.

Every error answer is `{"error": {"code": "<machine word>", "message": "<for a person>"}}`
with a fitting status; the editor's endpoints and Mr. Blue's API both answer this way.
"""

import json
from typing import Any

from django.http import JsonResponse


def json_error(status: int, code: str, message: str, retry_after: int | None = None):
    """An error answer (with `Retry-After` when the client should wait)."""
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def read_json(text: str | bytes) -> Any:
    """`json.loads(text)`, raising `ValueError` for anything that is not usable JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        # Deeply nested input (`[[[[…`) is malformed JSON to us, not a crash.
        raise ValueError("The JSON is nested too deeply.") from None
