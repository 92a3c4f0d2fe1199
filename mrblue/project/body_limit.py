"""Request bodies over Django's size limit, answered in the API's error shape.

Django refuses a body over `DATA_UPLOAD_MAX_MEMORY_SIZE` on its first read (`request.body`
raises `RequestDataTooBig`) and answers with its HTML "Bad Request" page. For requests that
expect JSON (the API, the engine, the editor's JSON endpoints, SDP offers) this middleware
reads the body first, as their views would, and answers 413 `payload_too_large` instead: in
OpenAI's error shape under the engine's `/v1/`, in the project's everywhere else.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.deprecation import MiddlewareMixin

from mrblue.engine.transports.views import api_error
from mrblue.shared.errors import json_error

ENGINE_PATH = "/v1/"
JSON_PATHS = ("/api/", ENGINE_PATH)
JSON_CONTENT_TYPES = ("application/json", "application/sdp")


def wants_json(request) -> bool:
    """Whether the client of this request reads JSON errors rather than HTML pages."""
    return request.path.startswith(JSON_PATHS) or request.content_type in JSON_CONTENT_TYPES


class BodyLimitMiddleware(MiddlewareMixin):
    """Answer a JSON request whose body is over Django's limit with a JSON 413."""

    def process_request(self, request):
        """The 413 answer, or None to go on (with the body read, as the view will read it)."""
        if not wants_json(request):
            return None
        try:
            request.body  # noqa: B018  (the read is the check)
        except RequestDataTooBig:
            return too_large(request)
        return None


def too_large(request):
    """413 `payload_too_large`, in the error shape of the endpoint asked."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = f"The request body is larger than the limit of {limit} bytes."
    if request.path.startswith(ENGINE_PATH):
        return api_error(413, message, "payload_too_large")
    return json_error(413, "payload_too_large", message)
