"""WebSocket routing: the engine's OpenAI-style endpoint, and the web app's own sockets.

The engine authenticates by API key (SDK clients send no Origin), so it sits outside the
origin check and the session-cookie auth that the web app's sockets go through.
"""

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from mrblue.conversation_log.consumer import TranscriptLogConsumer
from mrblue.engine.urls import websocket_patterns

engine_urlpatterns = websocket_patterns()

# Session-authenticated, origin-checked sockets of the web app (the transcript log).
web_urlpatterns = [
    path(
        "ws/mrblue/conversations/<int:conversation_id>/",
        TranscriptLogConsumer.as_asgi(),
    ),
]


class PrefixRouter:
    """Send a WebSocket to the engine if its path starts with /v1/, else to the web app."""

    def __init__(self):
        self.engine = URLRouter(engine_urlpatterns)
        self.web = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(web_urlpatterns)))

    async def __call__(self, scope, receive, send):
        app = self.engine if scope["path"].startswith("/v1/") else self.web
        return await app(scope, receive, send)


websocket_application = PrefixRouter()
