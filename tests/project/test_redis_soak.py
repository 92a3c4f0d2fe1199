"""A hundred transcript-log sockets on a server configured with Redis stay open through 30 s
of silence, then each message is acknowledged (redis-py 8's 5 s read timeout once closed idle
sockets with 1011)."""

import asyncio
import json
import os

import pytest
import websockets
from channels.db import database_sync_to_async

from tests.faults.conftest import server_errors
from tests.faults.outbox import log_in, transcript_lines
from tests.support.live import LiveServer

pytestmark = [
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="Redis is not configured"),
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_connections"),
]
SOCKETS = 100
IDLE_SECONDS = 30  # six times redis-py 8's default read timeout


@pytest.fixture
def server(django_db_blocker):
    with django_db_blocker.unblock():
        server = LiveServer({"MRBLUE_LOG_CONNECTIONS_PER_USER": str(SOCKETS)})
    yield server
    server.close()


@pytest.fixture
def conversations(make_conversation, make_page, make_user):
    owner = make_user("owner", perms=("editor.change_page", "editor.view_page"))
    page = make_page("mundo-tango", "Mundo Tango")
    return [make_conversation(owner=owner, page=page).pk for _ in range(SOCKETS)]


async def test_idle_log_sockets_stay_open_and_acknowledge(conversations, server):
    conversations = await database_sync_to_async(lambda: conversations)()
    assert os.environ["REDIS_URL"] == server.env["REDIS_URL"]
    session = await log_in(server.url, "owner")
    headers = {"Cookie": f"sessionid={session}", "Origin": server.url}
    url = server.url.replace("http", "ws", 1) + "/ws/mrblue/conversations/{}/"
    sockets = [
        await websockets.connect(url.format(pk), additional_headers=headers) for pk in conversations
    ]
    closings = [asyncio.ensure_future(ws.wait_closed()) for ws in sockets]
    try:
        # The idle time is the test: any socket the server closes meanwhile ends the wait.
        closed, _ = await asyncio.wait(closings, timeout=IDLE_SECONDS)
        assert not closed, [ws.close_code for ws in sockets if ws.close_code is not None]
        line = transcript_lines(1)[0]
        for ws in sockets:
            await ws.send(json.dumps(line))
        replies = await asyncio.gather(*(asyncio.wait_for(ws.recv(), 30) for ws in sockets))
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))
        for closing in closings:
            closing.cancel()
    assert [json.loads(reply) for reply in replies] == [{"type": "ack", "seq": 0}] * SOCKETS
    assert not any("Timeout reading" in line for line in server.output)
    assert server_errors(server) == []
