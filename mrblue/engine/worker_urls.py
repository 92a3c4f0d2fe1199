"""URL configuration of an engine worker: the engine's endpoints and its health, nothing else
(the site's pages, admin and API stay in the web process)."""

from mrblue.engine.routes import http_patterns

urlpatterns = http_patterns()
