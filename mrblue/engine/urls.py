"""The engine's URLs, in the OpenAI API's paths, served as this process's role says.

`inprocess` and `worker` run the engine's own views; `gateway` places and forwards them to the
workers (`mrblue.engine.transports.gateway`). The paths and names are the same in every role.
"""

from django.urls import path

from mrblue.engine.engine_settings import engine_settings


def _is_gateway() -> bool:
    return engine_settings.ENGINE_ROLE == "gateway"


def http_patterns() -> list:
    """`/v1/realtime/...`, `/v1/audio/speech` and `/healthz`."""
    if _is_gateway():
        from mrblue.engine.transports import gateway as views
    else:
        from mrblue.engine.transports import views  # type: ignore[no-redef]  # same names
    return [
        path("v1/realtime/client_secrets", views.client_secrets, name="engine_client_secrets"),
        path("v1/realtime/calls", views.calls, name="engine_calls"),
        path("v1/realtime/calls/<str:call_id>/hangup", views.hangup, name="engine_hangup"),
        path("v1/audio/speech", views.speech, name="engine_speech"),
        path("healthz", views.health, name="health"),
    ]


def websocket_patterns() -> list:
    """`/v1/realtime`, the engine's WebSocket."""
    if _is_gateway():
        from mrblue.engine.transports.gateway import RelayConsumer as consumer
    else:
        from mrblue.engine.transports.websocket import EngineConsumer as consumer
    return [path("v1/realtime", consumer.as_asgi())]


# An engine worker's whole URL configuration (`ROOT_URLCONF` in the worker role): the engine's
# endpoints and its health, nothing else (the site's pages, admin and API stay on the web side).
urlpatterns = http_patterns()
