"""The product's ASGI app plus an echo socket: the ceiling of the stack, for the benchmark."""

from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from mrblue.project.asgi import application as product


class EchoConsumer(AsyncJsonWebsocketConsumer):
    """Acknowledges every message without storing anything."""

    async def receive_json(self, content, **kwargs):
        """Ack at once."""
        await self.send_json({"type": "ack", "seq": content.get("seq")})


echo = AllowedHostsOriginValidator(
    AuthMiddlewareStack(
        URLRouter(
            [
                path("ws/echo/<int:conversation_id>/", EchoConsumer.as_asgi()),
            ]
        )
    )
)


async def _websocket(scope, receive, send):
    app = echo if scope["path"].startswith("/ws/echo/") else product
    return await app(scope, receive, send)


application = ProtocolTypeRouter({"http": product, "websocket": _websocket})
