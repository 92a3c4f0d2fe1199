"""Two web processes on one database (and one Redis, when configured), as behind a proxy:
logins and sessions work on both, the mint and log limits count across both, and a
transcript-log connection that moves to the other process mid-conversation stores every line
exactly once."""

import httpx
import pytest
from channels.db import database_sync_to_async

from tests.faults.conftest import stored
from tests.faults.outbox import Outbox, browser, log_in, transcript_lines
from tests.support.live import LiveServer

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_connections"),
]
MINTS_PER_MINUTE = 3
LOG_MESSAGES_PER_10S = 150  # more than the moved connection's lines and their resends


@pytest.fixture
def conversation(make_conversation, make_page):
    """A conversation of user `owner` (password pw-12345!) on page `mundo-tango`."""
    return make_conversation(page=make_page("mundo-tango", "Mundo Tango"))


@pytest.fixture
def two_servers(django_db_blocker):
    """Two Daphne processes serving the same database, as two upstreams of one proxy."""
    env = {
        "MRBLUE_REALTIME_PROVIDER": "local",
        "MRBLUE_MINT_RATE_PER_MINUTE": str(MINTS_PER_MINUTE),
        "MRBLUE_LOG_MESSAGES_PER_10S": str(LOG_MESSAGES_PER_10S),
    }
    with django_db_blocker.unblock():
        first = LiveServer(env)
        try:
            second = LiveServer(env)
        except Exception:
            first.close()
            raise
    yield first, second
    second.close()
    first.close()


async def test_a_login_on_one_process_holds_on_the_other(conversation, two_servers):
    for logged_in, other in (two_servers, reversed(two_servers)):
        http = await browser(logged_in.url, "owner")
        try:
            cookies = {"sessionid": http.cookies["sessionid"]}
            async with httpx.AsyncClient(base_url=other.url, cookies=cookies) as elsewhere:
                page_list = await elsewhere.get("/editor/")
        finally:
            await http.aclose()
        assert page_list.status_code == 200, page_list.headers.get("location")
        assert "Mundo Tango" in page_list.text


async def test_the_mint_limit_counts_the_sessions_of_both_processes(conversation, two_servers):
    first, second = two_servers
    clients = [await browser(first.url, "owner"), await browser(second.url, "owner")]
    try:
        statuses = []
        for number in range(MINTS_PER_MINUTE + 1):
            http = clients[number % 2]  # alternate: no process alone sees the limit reached
            answer = await http.post("/api/realtime/session", json={"page": "mundo-tango"})
            statuses.append((answer.status_code, answer.json().get("error", {}).get("code")))
    finally:
        for http in clients:
            await http.aclose()
    assert statuses == [(200, None)] * MINTS_PER_MINUTE + [(429, "rate_limited")]


async def test_the_log_limit_counts_the_messages_sent_to_both_processes(conversation, two_servers):
    first, second = two_servers
    conversation = await database_sync_to_async(lambda: conversation)()
    session = await log_in(first.url, "owner")
    here, there = Outbox(conversation.pk, session), Outbox(conversation.pk, session)
    try:
        await here.connect(first.url)
        await here.send(transcript_lines(100))
        await here.read_acks(timeout=30)
        await there.connect(second.url)
        await there.send(transcript_lines(100, start=100))
        replies = [await there.read_one() for _ in range(100)]
    finally:
        await here.close()
        await there.close()
    # Alone, the second process would take all 100 (fewer than the limit); with the first
    # one's 100 counted, it refuses the rest, to be sent again later.
    refused = [reply for reply in replies if reply.get("code") == "rate_limited"]
    assert refused and len(there.acked) + len(refused) == 100
    assert all(reply["retry_after_ms"] > 0 for reply in refused)


async def test_a_log_connection_moved_to_the_other_process_stores_every_line_once(
    conversation, two_servers
):
    first, second = two_servers
    conversation = await database_sync_to_async(lambda: conversation)()
    outbox = Outbox(conversation.pk, await log_in(first.url, "owner"))
    await outbox.connect(first.url)
    await outbox.send(transcript_lines(20))
    await outbox.read_acks(timeout=30)
    await outbox.send(transcript_lines(20, start=20))
    await outbox.read_one()  # the first process is storing this batch
    left_behind = outbox.ws  # still open: the first process goes on storing what it got
    try:
        # The proxy sends the reconnect to the second process, which is sent every line not
        # acknowledged yet, some of them while the first process stores the same ones.
        await outbox.connect(second.url)
        await outbox.send(transcript_lines(20, start=40))
        await outbox.deliver(second.url, timeout=60)
    finally:
        await left_behind.close()
        await outbox.close()
    seqs, texts = await stored(conversation)
    assert seqs == list(range(60))
    assert texts == [f"line {seq}" for seq in range(60)]
    assert outbox.errors == []
