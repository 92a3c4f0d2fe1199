"""WebSockets through the real ASGI application: origins, owners, anonymous visitors."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from mrblue.app_settings import app_settings
from mrblue.models import LogMessage
from mrblue.project.asgi import application
from tests.support.sockets import session_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_connections"),
]
OWN_ORIGINS = ("http://127.0.0.1", "http://localhost:8000", "https://127.0.0.1:8443")
FOREIGN_ORIGINS = ("http://evil.example", "null", "http://127.0.0.1.evil.example")


@pytest.fixture
def conversation(make_conversation):
    return make_conversation()


async def open_log(conversation_id, user=None, origin: str | None = "http://127.0.0.1"):
    headers = [] if origin is None else [(b"origin", origin.encode())]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    socket = WebsocketCommunicator(
        application, f"/ws/mrblue/conversations/{conversation_id}/", headers=headers
    )
    connected, code = await socket.connect(timeout=5)
    return socket, connected, code


async def owner_of(conversation):
    return await database_sync_to_async(lambda: conversation.user)()


async def test_the_log_socket_accepts_its_own_origins(conversation):
    owner = await owner_of(conversation)
    for origin in OWN_ORIGINS:
        socket, connected, _ = await open_log(conversation.pk, owner, origin)
        assert connected, origin
        await socket.send_json_to({"type": "metric", "seq": 1, "name": "x", "value_ms": 1})
        assert await socket.receive_json_from(timeout=5) == {"type": "ack", "seq": 1}
        await socket.disconnect()


async def test_the_log_socket_refuses_foreign_or_missing_origins(conversation):
    owner = await owner_of(conversation)
    for origin in (*FOREIGN_ORIGINS, None):
        socket, connected, _ = await open_log(conversation.pk, owner, origin)
        assert not connected, origin
        await socket.disconnect()


async def test_the_log_socket_refuses_strangers_and_anonymous_visitors(conversation, make_user):
    stranger = await database_sync_to_async(make_user)("stranger", perms=("editor.change_page",))
    for user in (stranger, None):
        socket, connected, _ = await open_log(conversation.pk, user)
        if connected:  # accepted only to say why, then closed
            assert (await socket.receive_json_from(timeout=5))["code"] == "forbidden"
            closed = await socket.receive_output(timeout=5)
            assert closed == {"type": "websocket.close", "code": 4403}
        await socket.send_json_to({"type": "metric", "seq": 1, "name": "x", "value_ms": 1})
        await socket.disconnect()
    assert not await LogMessage.objects.filter(conversation=conversation).aexists()


async def open_engine(origin: str | None):
    headers = [(b"authorization", f"Bearer {app_settings.ENGINE_API_KEY}".encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    socket = WebsocketCommunicator(application, "/v1/realtime", headers=headers)
    connected, _ = await socket.connect(timeout=5)
    event = await socket.receive_json_from(timeout=10) if connected else None
    return socket, event


@pytest.mark.parametrize("origin", [None, "http://127.0.0.1"])
async def test_the_engine_socket_accepts_sdk_clients_and_the_sites_own_pages(origin):
    socket, event = await open_engine(origin)
    assert event["type"] == "session.created"
    await socket.disconnect()


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS[:1])
async def test_the_engine_socket_takes_a_key_from_any_origin(origin):
    # By design, as OpenAI's own endpoint: the engine authenticates by key (header or
    # subprotocol), never by an ambient cookie, so a page elsewhere can only use a secret it
    # was given. The cookie case is the next test.
    socket, event = await open_engine(origin)
    await socket.disconnect()
    assert event["type"] == "session.created"


async def test_a_session_cookie_does_not_open_the_engine_socket(conversation):
    owner = await owner_of(conversation)
    headers = [
        (b"origin", b"http://127.0.0.1"),
        (b"cookie", await database_sync_to_async(session_cookie)(owner)),
    ]
    socket = WebsocketCommunicator(application, "/v1/realtime", headers=headers)
    connected, _ = await socket.connect(timeout=5)
    if connected:  # accepted only to say why, then closed
        event = await socket.receive_json_from(timeout=5)
        assert event["type"] == "error" and event["error"]["code"] == "invalid_api_key"
        assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
    await socket.disconnect()
