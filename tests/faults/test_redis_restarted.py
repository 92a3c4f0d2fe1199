"""Redis killed and started again under the channel layer: the log socket comes back and
stores every line once. Runs only in the Redis configuration (REDIS_URL set), on a Redis of
its own (never the machine's shared one)."""

import os
import shutil
import socket
import subprocess
import threading
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
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="the Redis channel layer is not configured (REDIS_URL unset)",
    ),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own, keeping nothing on disk."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process = None

    def start(self, timeout: float = 15.0) -> None:
        """Start it and wait until it says it accepts connections."""
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        ready = threading.Event()

        def read(stream):
            for line in stream:
                if "Ready to accept connections" in line:
                    ready.set()
            ready.set()  # it ended: the waiter sees the exit code

        threading.Thread(target=read, args=(self.process.stdout,), daemon=True).start()
        assert ready.wait(timeout) and self.process.poll() is None, "redis-server did not start"

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self.process.kill()
        self.process.wait(10)


@pytest.fixture
def redis():
    server = PrivateRedis(free_port())
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()


async def test_a_restarted_redis_loses_and_duplicates_no_line(
    conversation, redis, django_db_blocker
):
    conversation = await database_sync_to_async(lambda: conversation)()
    with django_db_blocker.unblock():
        server = LiveServer({"REDIS_URL": redis.url})
    outbox = Outbox(conversation.pk)
    try:
        outbox.session = await log_in(server.url, "owner")
        await outbox.connect(server.url)
        await outbox.send(transcript_lines(10))
        await outbox.read_acks(timeout=30)
        redis.kill()
        await outbox.send(transcript_lines(10, start=10))
        redis.start()
        await outbox.deliver(server.url, timeout=60)
        # A fresh connection (a new channel in the layer) works too.
        await outbox.close()
        await outbox.connect_until(server.url, time.monotonic() + 30)
        await outbox.send(transcript_lines(10, start=20))
        await outbox.deliver(server.url, timeout=60)
    finally:
        await outbox.close()
        server.close()
    seqs, texts = await stored(conversation)
    assert seqs == list(range(30))
    assert texts == [f"line {seq}" for seq in range(30)]
