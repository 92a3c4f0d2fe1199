"""A log socket gives its place and its unused messages back however it ends: its handler
raising (the rate limit's store or the log's table failing mid-socket), its task cancelled, its
server shutting down. Faults are real: a table renamed away for a moment (every query of it
fails, as in an outage), the cache pointed at a Redis port nobody listens on."""

import asyncio
import contextlib
import json
import socket
import time

import pytest
import redis.exceptions
import websockets
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError, connection

from editor.models import RateCount
from mrblue.conversation_log.consumer import log_limiter
from mrblue.models import LogMessage
from tests.support.live import LiveServer
from tests.support.sockets import session_cookie
from tests.transcript_log.test_transcript_log import connect, send, transcript

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_connections"),
]
ACK_0, ACK_1 = {"type": "ack", "seq": 0}, {"type": "ack", "seq": 1}
DAPHNE_CHECK_S = 1.5  # Daphne's application checker runs every second
# A store that is down takes redis-py's retries (about 3 s) to say so.
FAILED_WITHIN_S = 15


@pytest.fixture
def one_place_each(settings):
    """One log socket per user, and a rate whose leases grow 1, 2, 4 (up to 10)."""
    settings.MRBLUE_LOG_CONNECTIONS_PER_USER = 1
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 100


@pytest.fixture
async def owner(make_conversation):
    conversation = await database_sync_to_async(make_conversation)()
    return await database_sync_to_async(lambda: conversation.user)(), conversation.pk


async def counted(user, since: float) -> int:
    """The user's log messages counted in every window since `since` (taken, minus what was
    given back)."""
    window = log_limiter.window
    first, last = int(since // window), int(time.time() // window)
    count = sync_to_async(log_limiter.counted)
    return sum([await count(f"log:{user.pk}", n * window) for n in range(first, last + 1)])


async def _execute(sql: str) -> None:
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql)

    await sync_to_async(run)()


@contextlib.asynccontextmanager
async def renamed_away(table: str):
    """`table` under another name for a while: every query of it fails meanwhile."""
    quote = connection.ops.quote_name
    await _execute(f"ALTER TABLE {quote(table)} RENAME TO {quote(table + '_away')}")
    try:
        yield
    finally:
        await _execute(f"ALTER TABLE {quote(table + '_away')} RENAME TO {quote(table)}")


def unused_port() -> int:
    """A loopback port nobody listens on (bound once to find it, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.asynccontextmanager
async def counts_down(settings):
    """The rate limit's store is down for a while: the cache points at a Redis port nobody
    listens on, or (without Redis) the counts' table is renamed away."""
    if not isinstance(caches["default"], RedisCache):
        async with renamed_away(RateCount._meta.db_table):
            yield DatabaseError
        return
    working = settings.CACHES
    default = {**working["default"], "LOCATION": f"redis://127.0.0.1:{unused_port()}/0"}
    settings.CACHES = {**working, "default": default}
    try:
        yield redis.exceptions.ConnectionError
    finally:
        settings.CACHES = working


@pytest.mark.usefixtures("one_place_each")
async def test_a_socket_whose_rate_limit_store_fails_frees_its_place(owner, settings):
    user, conversation_id = owner
    started = time.time()
    first = await connect(conversation_id, user)
    assert await send(first, transcript(0)) == ACK_0  # its first lease (one message), used
    async with counts_down(settings) as error:
        await first.send_json_to(transcript(1))  # a new lease is needed: the store is down
        with pytest.raises(error):
            await first.receive_output(timeout=FAILED_WITHIN_S)
    second = await connect(conversation_id, user)  # at once: the broken socket's place is free
    assert await send(second, transcript(1)) == ACK_1
    await second.disconnect()
    assert await counted(user, started) == 2


@pytest.mark.usefixtures("one_place_each")
async def test_a_socket_whose_store_fails_frees_its_place_and_gives_back_its_lease(owner):
    user, conversation_id = owner
    started = time.time()
    first = await connect(conversation_id, user)
    assert await send(first, transcript(0)) == ACK_0  # a lease of one, used
    async with renamed_away(LogMessage._meta.db_table):
        await first.send_json_to(transcript(1))  # a lease of two: one used, one left
        with pytest.raises(DatabaseError):
            await first.receive_output(timeout=FAILED_WITHIN_S)
    assert await counted(user, started) == 2  # the unused one went back
    second = await connect(conversation_id, user)
    assert await send(second, transcript(1)) == ACK_1
    await second.disconnect()
    assert await LogMessage.objects.acount() == 2


@pytest.mark.usefixtures("one_place_each")
async def test_a_cancelled_socket_frees_its_place_and_gives_back_its_lease(owner):
    user, conversation_id = owner
    started = time.time()
    first = await connect(conversation_id, user)
    assert await send(first, transcript(0)) == ACK_0  # a lease of one
    assert await send(first, transcript(1)) == ACK_1  # a lease of two, one left
    assert await counted(user, started) == 3
    first.future.cancel()  # as a server does with its sockets when it stops
    with pytest.raises(asyncio.CancelledError):
        await first.future
    assert await counted(user, started) == 2
    second = await connect(conversation_id, user)
    assert await send(second, {**transcript(2), "item_id": "item_2"}) == {"type": "ack", "seq": 2}
    await second.disconnect()


@pytest.mark.live
async def test_a_server_shutting_down_gives_back_its_sockets_unused_messages(
    owner, django_db_blocker
):
    user, conversation_id = owner
    started = time.time()
    cookie = (await database_sync_to_async(session_cookie)(user)).decode()
    with django_db_blocker.unblock():
        server = await asyncio.to_thread(LiveServer, {"MRBLUE_LOG_MESSAGES_PER_10S": "100"})
    try:
        url = server.url.replace("http", "ws") + f"/ws/mrblue/conversations/{conversation_id}/"
        headers = {"Cookie": cookie, "Origin": server.url}
        async with websockets.connect(url, additional_headers=headers) as ws:
            for seq in (0, 1):  # leases of one and two: three taken, two used
                await ws.send(json.dumps(transcript(seq)))
                assert json.loads(await ws.recv()) == {"type": "ack", "seq": seq}
            assert await counted(user, started) == 3
            # Daphne forgets a socket's upgrade request only on its next once-a-second check;
            # a SIGTERM before that makes its `kill_all_applications` fail (KeyError) and
            # cancel nothing (the interpreter then crashes at exit on Python 3.11.7,
            # python/cpython#113566). The wait is for that Daphne timer, not for this code.
            await asyncio.sleep(DAPHNE_CHECK_S)
            # SIGTERM with the socket open: Daphne cancels its sockets' tasks, waits for them.
            assert await asyncio.to_thread(server.close) == 0
            server.wait_for_output("Killed 1 pending application instances")
    finally:
        await asyncio.to_thread(server.close)
    assert await counted(user, started) == 2
