"""The ASGI application of an engine worker process: the engine's endpoints, nothing else.

A worker (`MRBLUE_ENGINE_ROLE=worker`, started by `python -m mrblue.project.launch worker` or
`bootstrap serve`) serves the engine's HTTP endpoints (its `ROOT_URLCONF` is
`mrblue.engine.urls`) and its WebSocket, and none of the site's pages, admin or sockets. Loading
this module makes the process a worker: it loads the models, heartbeats and drains on SIGTERM
(`mrblue.engine.workers.worker`). The web processes run `mrblue.project.asgi` instead.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mrblue.project.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (Django set up first)

from mrblue.engine.engine_settings import engine_settings  # noqa: E402
from mrblue.engine.urls import websocket_patterns  # noqa: E402
from mrblue.engine.workers.worker import start_worker  # noqa: E402

if engine_settings.ENGINE_ROLE != "worker":
    raise RuntimeError(
        "mrblue.engine.asgi is an engine worker's application: set MRBLUE_ENGINE_ROLE=worker "
        "(web processes run mrblue.project.asgi)."
    )

start_worker()

# The engine authenticates by API key (SDK clients send no Origin): no origin check or
# session-cookie auth on its socket, as on the web processes (`mrblue.project.routing`).
application = ProtocolTypeRouter(
    {"http": django_asgi_app, "websocket": URLRouter(websocket_patterns())}
)
