"""The server killed with SIGKILL mid-conversation, and started again: the outbox resends what
was not acknowledged, and the log holds every line exactly once."""

import time

import pytest
from channels.db import database_sync_to_async

from tests.faults.conftest import stored
from tests.faults.outbox import Outbox, log_in, transcript_lines
from tests.support.live import LiveServer

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_connections"),
]
BATCH = 40


def start(django_db_blocker) -> LiveServer:
    with django_db_blocker.unblock():
        return LiveServer()


async def test_a_killed_server_loses_and_duplicates_no_line(conversation, django_db_blocker):
    conversation = await database_sync_to_async(lambda: conversation)()
    server = start(django_db_blocker)
    outbox = Outbox(conversation.pk)
    try:
        outbox.session = await log_in(server.url, "owner")
        await outbox.connect(server.url)
        await outbox.send(transcript_lines(BATCH))
        await outbox.read_acks(timeout=30)
        # A second batch goes out, and the server dies with it in flight.
        await outbox.send(transcript_lines(BATCH, start=BATCH))
        await outbox.read_one()  # the server is working on the batch
        server.process.kill()
        assert server.process.wait(10) == -9
        assert outbox.pending, "the server had answered everything before it died"
        print(f"{len(outbox.pending)} lines unacknowledged when the server died")
        server = start(django_db_blocker)
        await outbox.connect_until(server.url, deadline=time.monotonic() + 30)
        await outbox.send(transcript_lines(BATCH, start=2 * BATCH))
        await outbox.deliver(server.url, timeout=60)
    finally:
        await outbox.close()
        server.close()
    seqs, texts = await stored(conversation)
    assert seqs == list(range(3 * BATCH))
    assert texts == [f"line {seq}" for seq in range(3 * BATCH)]
    assert outbox.errors == []
