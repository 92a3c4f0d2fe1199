"""The database locked for a few seconds under a live server: log messages wait and are then
acknowledged, nothing is lost, and minting a session answers late or in JSON, never a 500."""

import asyncio
import contextlib
import json
import sqlite3

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from mrblue.engine.models import EngineClientSecret
from mrblue.models import Conversation, LogMessage, TranscriptEntry
from tests.faults.conftest import server_errors, stored
from tests.faults.outbox import Outbox, browser, transcript_lines
from tests.support.live import LiveServer

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_connections"),
]
LOCKED_TABLES = [m._meta.db_table for m in (Conversation, LogMessage, TranscriptEntry)]
LOCKED_TABLES.append(EngineClientSecret._meta.db_table)
# How long the lock is held at least: while it is, no acknowledgement may arrive.
HELD_SECONDS = 2.5


@contextlib.contextmanager
def database_locked():
    """Hold a lock that stops every write the log and the mint make (and, on PostgreSQL,
    every read of those tables), from another connection, until the block ends."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        # WAL mode: readers go on, every writer waits (up to the server's busy timeout, 20 s).
        lock = sqlite3.connect(settings["NAME"], isolation_level=None, timeout=30)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            lock.execute("ROLLBACK")
            lock.close()
    elif connection.vendor == "postgresql":
        import psycopg

        params = {
            "dbname": settings["NAME"],
            "user": settings["USER"],
            "password": settings.get("PASSWORD") or None,
            "host": settings.get("HOST") or "127.0.0.1",
            "port": settings.get("PORT") or 5432,
        }
        with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as lock:
            # In a transaction (psycopg's default): the lock lasts until the rollback.
            lock.execute("SET lock_timeout = '10s'")
            tables = ", ".join(f'"{table}"' for table in LOCKED_TABLES)
            lock.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")
            try:
                yield
            finally:
                lock.rollback()
    else:
        pytest.skip(f"no lock recipe for {connection.vendor}")


@pytest.fixture
def server(django_db_blocker):
    with django_db_blocker.unblock():
        server = LiveServer({"MRBLUE_REALTIME_PROVIDER": "local"})
    yield server
    server.close()


async def test_a_locked_database_delays_but_loses_nothing(conversation, server):
    conversation = await database_sync_to_async(lambda: conversation)()
    http = await browser(server.url, "owner")
    outbox = Outbox(conversation.pk, http.cookies["sessionid"])
    try:
        await outbox.connect(server.url)
        await outbox.send(transcript_lines(5))
        await outbox.read_acks(timeout=30)
        with database_locked():
            await outbox.send(transcript_lines(20, start=5))
            mint = asyncio.create_task(
                http.post("/api/realtime/session", content=json.dumps({"page": "mundo-tango"}))
            )
            with pytest.raises(TimeoutError):  # nothing can be stored while the lock holds
                await outbox.read_acks(timeout=HELD_SECONDS)
            assert not mint.done()
        await outbox.deliver(server.url, timeout=30)
        minted = await mint
    finally:
        await outbox.close()
        await http.aclose()
    assert minted.headers["Content-Type"] == "application/json", minted.text
    if minted.status_code != 200:
        assert "code" in minted.json()["error"]
    seqs, texts = await stored(conversation)
    assert seqs == list(range(25))
    assert texts == [f"line {seq}" for seq in range(25)]
    assert outbox.errors == []
    assert server_errors(server) == []
