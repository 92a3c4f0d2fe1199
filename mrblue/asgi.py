"""ASGI entry point: HTTP to Django (and static files), WebSockets through Channels.

WebSockets that belong to the web app (session login, browser origin) pass
`AllowedHostsOriginValidator` and `AuthMiddlewareStack`.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mrblue.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from mrblue.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # One process serves the whole product, static files included.
        "http": ASGIStaticFilesHandler(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
