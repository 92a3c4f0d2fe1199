"""Errors as the project answers them: a machine word (`code`) and a sentence for a person
(`message`); over HTTP, `{"error": {"code", "message"}}` with a fitting status.

The editor's endpoints, Mr. Blue's API and the engine's all answer in this shape; the
transcript log's socket and the engine's `error` events carry the same two fields.
"""

from django.http import JsonResponse


class CodedError(Exception):
    """A failure the caller reports back: `code` for programs, `message` for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class HttpError(CodedError):
    """A failure an endpoint answers with: its HTTP status, and when to try again."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None):
        super().__init__(code, message)
        self.status = status
        self.retry_after = retry_after

    def response(self) -> JsonResponse:
        """The error answer."""
        return json_error(self.status, self.code, self.message, self.retry_after)


def json_error(status: int, code: str, message: str, retry_after: int | None = None):
    """An error answer (with `Retry-After` when the client should wait)."""
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response
