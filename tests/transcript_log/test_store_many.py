"""Group commit: a batch of log messages stored in one transaction (`store_many`), and the
writer that gathers the messages arriving while a batch is being stored into the next one."""

import asyncio
import threading
from importlib import import_module

import pytest
from channels.db import database_sync_to_async
from django.db import connections

from mrblue.conversation_log import writer as log_writer
from mrblue.conversation_log.store import LogError, store_many, validate
from mrblue.models import Conversation, LogMessage, TranscriptEntry


def line(seq, item_id, text="words", index=None, role="user"):
    message = {"seq": seq, "type": "transcript", "item_id": item_id, "role": role}
    message |= {"text": text, "final": True}
    if index is not None:
        message["index"] = index
    return validate(message)


def log_of(conversation):
    return list(LogMessage.objects.filter(conversation=conversation).values_list("seq", flat=True))


def transcript_of(conversation):
    entries = TranscriptEntry.objects.filter(conversation=conversation)
    return list(entries.values_list("item_id", "text", "position", "seq"))


@pytest.mark.django_db
def test_one_batch_stores_each_seq_once_and_keeps_the_newest_text(make_conversation):
    conversation = make_conversation()
    results = store_many(
        [
            (conversation, line(1, "a", "newer")),
            (conversation, line(0, "a", "older")),  # arrives late: stored, but not the text
            (conversation, line(1, "a", "newer")),  # a replay within the batch
            (conversation, line(2, "b", "next")),
        ]
    )
    assert results == [True, True, False, True]
    assert log_of(conversation) == [0, 1, 2]
    assert transcript_of(conversation) == [("a", "newer", 0, 1), ("b", "next", 1, 2)]
    assert store_many([(conversation, line(0, "a", "older"))]) == [False]


@pytest.mark.django_db
def test_a_batch_fills_a_conversation_and_replays_are_still_acknowledged(
    make_conversation, settings
):
    settings.MRBLUE_LOG_MESSAGES_PER_CONVERSATION = 2
    conversation = make_conversation()
    results = store_many([(conversation, line(seq, f"i{seq}")) for seq in (0, 1, 2, 0)])
    assert results[:2] == [True, True] and results[3] is False
    assert isinstance(results[2], LogError) and results[2].code == "conversation_full"
    assert log_of(conversation) == [0, 1]


@pytest.mark.django_db
def test_a_conversation_counts_what_it_stores_not_its_replays_or_refusals(
    make_conversation, settings
):
    settings.MRBLUE_LOG_MESSAGES_PER_CONVERSATION = 4
    first = make_conversation()
    second = make_conversation(owner=first.user, page=first.page)
    store_many([(first, line(0, "a")), (first, line(1, "b")), (second, line(0, "a"))])
    results = store_many(
        [(first, line(1, "b")), (first, line(2, "c"))]
        + [(second, line(seq, f"i{seq}")) for seq in range(1, 6)]
    )
    assert results[:5] == [False, True, True, True, True]
    assert [result.code for result in results[5:]] == ["conversation_full"] * 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (
        (first.log_messages, second.log_messages)
        == (3, 4)
        == (
            len(log_of(first)),
            len(log_of(second)),
        )
    )


@pytest.mark.django_db
def test_the_migration_counts_the_messages_conversations_already_hold(make_conversation):
    from django.apps import apps

    migration = import_module("mrblue.migrations.0012_conversation_log_messages")
    full = make_conversation()
    empty = make_conversation(owner=full.user, page=full.page)
    store_many([(full, line(seq, f"i{seq}")) for seq in range(3)])
    Conversation.objects.update(log_messages=0)  # as the column starts, before the count
    migration.count_stored_messages(apps, None)
    assert dict(Conversation.objects.values_list("pk", "log_messages")) == {
        full.pk: 3,
        empty.pk: 0,
    }


@pytest.mark.django_db
def test_a_batch_spans_conversations_and_places_items_without_index(make_conversation, make_page):
    first = make_conversation()
    second = make_conversation(owner=first.user, page=make_page("other", "Other"))
    store_many([(first, line(0, "x", index=0))])
    end = validate({"seq": 3, "type": "end"})
    results = store_many(
        [
            (first, line(1, "y")),
            (second, line(0, "x", "elsewhere")),
            (first, line(2, "z")),
            (first, end),
        ]
    )
    assert results == [True, True, True, True]
    assert [(item, position) for item, _, position, _ in transcript_of(first)] == [
        ("x", 0),
        ("y", 1),
        ("z", 2),
    ]
    assert transcript_of(second) == [("x", "elsewhere", 0, 0)]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.ended_at is not None and second.ended_at is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_async_connections")
async def test_messages_arriving_during_a_commit_share_the_next_and_wait_for_it(
    make_conversation, monkeypatch
):
    conversation = await database_sync_to_async(make_conversation)()
    started, release, sizes = threading.Event(), threading.Event(), []
    write = log_writer._write

    def slow_first_batch(items, check):
        sizes.append(len(items))
        if len(sizes) == 1:
            started.set()
            assert release.wait(10)
        return write(items, check)

    monkeypatch.setattr(log_writer, "_write", slow_first_batch)
    first = asyncio.ensure_future(log_writer.store(conversation, line(0, "i0")))
    assert await asyncio.to_thread(started.wait, 10)
    later = [
        asyncio.ensure_future(log_writer.store(conversation, line(seq, f"i{seq}")))
        for seq in range(1, 6)
    ]
    await asyncio.sleep(0)  # let each submit its message
    assert not first.done()  # not acknowledged before its transaction commits
    release.set()
    assert await asyncio.gather(first, *later) == [True] * 6
    assert sizes == [1, 5]
    assert await database_sync_to_async(log_of)(conversation) == list(range(6))


def writer_connection():
    """The writer thread's connection object (None before it has one)."""
    return log_writer._thread.submit(lambda: connections["default"].connection).result()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_async_connections")
async def test_the_writer_keeps_its_connection_between_batches_and_closes_it_when_idle(
    make_conversation, monkeypatch
):
    # CONN_MAX_AGE is 0 here: a connection set up per batch was most of a small batch's cost.
    monkeypatch.setattr(log_writer, "IDLE_CLOSE_S", 0.2)
    conversation = await database_sync_to_async(make_conversation)()
    assert await log_writer.store(conversation, line(0, "i0"))
    first = writer_connection()
    assert first is not None
    assert await log_writer.store(conversation, line(1, "i1"))
    assert writer_connection() is first
    closed = asyncio.Event()
    close_idle = log_writer._Writer._close_idle

    def close_and_tell(writer, loop):
        done = close_idle(writer, loop)
        done.add_done_callback(lambda _: closed.set())
        return done

    monkeypatch.setattr(log_writer._Writer, "_close_idle", close_and_tell)
    assert await log_writer.store(conversation, line(2, "i2"))
    await asyncio.wait_for(closed.wait(), 5)
    assert writer_connection() is None
    assert await log_writer.store(conversation, line(3, "i3"))
    assert await database_sync_to_async(log_of)(conversation) == [0, 1, 2, 3]


def break_writer_connection():
    """Close the writer's socket under Django, as a database restart leaves it."""
    log_writer._thread.submit(lambda: connections["default"].connection.close()).result()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_async_connections")
async def test_after_a_failed_batch_a_broken_connection_is_replaced(make_conversation, monkeypatch):
    monkeypatch.setattr(log_writer, "CHECK_AFTER_IDLE_S", 3600)  # no check: the batch fails
    conversation = await database_sync_to_async(make_conversation)()
    assert await log_writer.store(conversation, line(0, "i0"))
    break_writer_connection()
    with pytest.raises(Exception):  # noqa: B017 (the driver's own error for a closed socket)
        await log_writer.store(conversation, line(1, "i1"))
    assert await log_writer.store(conversation, line(1, "i1"))  # on a new connection
    assert await database_sync_to_async(log_of)(conversation) == [0, 1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_async_connections")
async def test_after_a_pause_a_broken_connection_is_replaced_before_the_batch(
    make_conversation, monkeypatch
):
    if connections["default"].vendor == "sqlite":
        pytest.skip("Django takes every SQLite connection for usable")
    monkeypatch.setattr(log_writer, "CHECK_AFTER_IDLE_S", 0)  # every batch follows a pause
    conversation = await database_sync_to_async(make_conversation)()
    assert await log_writer.store(conversation, line(0, "i0"))
    break_writer_connection()
    assert await log_writer.store(conversation, line(1, "i1"))  # no message is refused
    assert await database_sync_to_async(log_of)(conversation) == [0, 1]
