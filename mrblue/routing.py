"""WebSocket URL patterns of the web app (session-authenticated, origin-checked)."""

websocket_urlpatterns = []
