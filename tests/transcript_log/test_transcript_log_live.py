"""The transcript log through drops and a server restart: every message stored exactly once."""

import json
import re

import httpx
import pytest
import websockets
from channels.db import database_sync_to_async

from mrblue.models import Conversation, LogMessage, TranscriptEntry
from tests.support.live import LiveServer

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_connections"),
]
MESSAGES = 120
DROP_AFTER = 25
# Every reconnect resends the whole outbox (490 messages in all, in a few seconds): this test
# is about exactly-once, not the user's rate (tests/transcript_log/test_transcript_log.py).
UNLIMITED = {"MRBLUE_LOG_MESSAGES_PER_10S": "1000000"}


async def login(server) -> str:
    async with httpx.AsyncClient(base_url=server.url) as http:
        form = await http.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
        await http.post(
            "/accounts/login/",
            data={"username": "owner", "password": "pw-12345!", "csrfmiddlewaretoken": token},
        )
        return http.cookies["sessionid"]


def messages():
    for seq in range(MESSAGES):
        if seq % 3 == 2:
            yield {"type": "metric", "seq": seq, "name": "time_to_answer", "value_ms": seq}
        else:
            yield {
                "type": "transcript",
                "seq": seq,
                "item_id": f"item_{seq // 3}",
                "role": "user" if seq % 3 == 0 else "assistant",
                "text": f"words {seq}",
                "final": True,
                "index": seq,
            }


async def send_batch(server, session, conversation_id, pending, batch, read_acks):
    """One connection: resend what is pending, send the batch, maybe wait for acks."""
    url = server.url.replace("http", "ws") + f"/ws/mrblue/conversations/{conversation_id}/"
    headers = {"Cookie": f"sessionid={session}", "Origin": server.url}
    async with websockets.connect(url, additional_headers=headers) as ws:
        for message in [*pending.values(), *batch]:
            pending[message["seq"]] = message
            await ws.send(json.dumps(message))
        if not read_acks:
            return  # the connection drops with acks in flight
        while pending:
            reply = json.loads(await ws.recv())
            assert reply["type"] == "ack", reply
            pending.pop(reply["seq"], None)


async def test_drops_and_a_restart_lose_and_duplicate_nothing(
    daphne_server, django_db_blocker, make_user, make_page
):
    owner = await database_sync_to_async(make_user)("owner")
    page = await database_sync_to_async(make_page)("mundo-tango")
    conversation = await Conversation.objects.acreate(
        user=owner, page=page, page_title="Mundo Tango", provider="local", model="m", session={}
    )
    with django_db_blocker.unblock():
        server = LiveServer(UNLIMITED)
    session = await login(server)
    pending, all_messages = {}, list(messages())  # pending: sent, not yet acknowledged
    batches = [all_messages[i : i + DROP_AFTER] for i in range(0, MESSAGES, DROP_AFTER)]
    try:
        for number, batch in enumerate(batches):
            await send_batch(server, session, conversation.pk, pending, batch, read_acks=False)
            if number == 1:  # restart the server once, mid-conversation
                assert server.close() == 0
                with django_db_blocker.unblock():
                    server = LiveServer(UNLIMITED)
        await send_batch(server, session, conversation.pk, pending, [], read_acks=True)
    finally:
        server.close()
    seqs = await database_sync_to_async(
        lambda: list(
            LogMessage.objects.filter(conversation=conversation).values_list("seq", flat=True)
        )
    )()
    assert sorted(seqs) == list(range(MESSAGES))
    entries = await TranscriptEntry.objects.filter(conversation=conversation).acount()
    assert entries == MESSAGES // 3
