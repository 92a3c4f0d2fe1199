"""What a browser sends when it opens a WebSocket: the session cookie of a logged-in user."""

from django.test import Client


def session_cookie(user) -> bytes:
    """The `Cookie` header value of a session in which `user` is logged in."""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()
