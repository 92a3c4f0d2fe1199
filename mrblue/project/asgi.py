"""ASGI entry point of the web processes: HTTP to Django (and static files), WebSockets
through Channels. Engine workers have their own (`mrblue.engine.asgi`).

See `mrblue.project.routing` for which sockets are session-authenticated and origin-checked.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mrblue.project.settings")
django_asgi_app = get_asgi_application()

from django.core import checks  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

# Daphne runs no system checks: fail at start on a misconfigured provider, not at first use.
_errors = [e for e in checks.run_checks(tags=["mrblue"]) if e.is_serious()]
if _errors:
    raise ImproperlyConfigured("; ".join(f"{e.id}: {e.msg}" for e in _errors))

from channels.routing import ProtocolTypeRouter  # noqa: E402  (needs Django set up first)
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from mrblue.engine.engine_settings import engine_settings  # noqa: E402
from mrblue.project.routing import websocket_application  # noqa: E402

if engine_settings.ENGINE_ROLE == "worker":
    raise ImproperlyConfigured(
        "An engine worker runs mrblue.engine.asgi:application, not the site's application."
    )

application = ProtocolTypeRouter(
    {
        # Static files too: one command runs the product (see `bootstrap serve`).
        "http": ASGIStaticFilesHandler(django_asgi_app),
        "websocket": websocket_application,
    }
)
