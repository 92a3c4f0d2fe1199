"""The transcript log's WebSocket consumer, message by message, with the real ASGI stack."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from mrblue.models import LogMessage, TranscriptEntry, TurnTiming
from mrblue.project.asgi import application
from tests.support.sockets import session_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_connections"),
]


@pytest.fixture
def conversation(make_conversation, make_page):
    return make_conversation(page=make_page("mundo-tango", "Mundo Tango"), model="gpt-realtime")


async def connect(conversation_id, user=None):
    headers = [(b"origin", b"http://127.0.0.1")]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(
        application, f"/ws/mrblue/conversations/{conversation_id}/", headers=headers
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def transcript(seq, item_id="item_1", text="Hello", role="user", **extra):
    return {
        "type": "transcript",
        "seq": seq,
        "item_id": item_id,
        "role": role,
        "text": text,
        "final": True,
        **extra,
    }


@pytest.fixture
async def owner_socket(conversation):
    owner = await database_sync_to_async(lambda: conversation.user)()
    socket = await connect(conversation.pk, owner)
    yield socket
    await socket.disconnect()


async def send(socket, message):
    await socket.send_json_to(message)
    return await socket.receive_json_from(timeout=5)


MESSAGES = [
    transcript(0),
    {
        "type": "usage",
        "seq": 1,
        "response_id": "resp_1",
        "usage": {
            "total_tokens": 30,
            "input_tokens": 20,
            "output_tokens": 10,
            "input_token_details": {"audio_tokens": 15, "text_tokens": 5},
            "output_token_details": {"audio_tokens": 8, "text_tokens": 2},
        },
    },
    {
        "type": "tool_call",
        "seq": 2,
        "call_id": "call_1",
        "name": "undo",
        "arguments": "{}",
        "output": '{"ok": true}',
    },
    {"type": "metric", "seq": 3, "name": "time_to_answer", "value_ms": 812.5},
    {
        "type": "timing",
        "seq": 4,
        "response_id": "resp_1",
        "source": "engine",
        "stages": {"speech_stopped": 510, "transcript": 700, "first_audio": 1200},
    },
    {"type": "end", "seq": 5},
]


async def test_every_message_type_is_stored_and_acknowledged(owner_socket, conversation):
    for message in MESSAGES:
        assert await send(owner_socket, message) == {"type": "ack", "seq": message["seq"]}
    stored = await database_sync_to_async(
        lambda: list(LogMessage.objects.values_list("seq", "type"))
    )()
    assert stored == [(m["seq"], m["type"]) for m in MESSAGES]
    await conversation.arefresh_from_db()
    assert conversation.ended_at is not None
    entry = await TranscriptEntry.objects.aget()
    assert (entry.role, entry.text, entry.final) == ("user", "Hello", True)
    timing = await TurnTiming.objects.aget()
    assert (timing.seq, timing.source, timing.response_id) == (4, "engine", "resp_1")
    assert timing.stages() == {"speech_stopped": 510, "transcript": 700, "first_audio": 1200}


def timing(**fields):
    """A timing message, valid unless `fields` say otherwise."""
    return {"type": "timing", "seq": 1, "source": "panel", "stages": {"first_audio": 9}, **fields}


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"seq": 1}, "missing_field"),
        ({"type": "gossip", "seq": 1}, "unknown_type"),
        ({"type": "end"}, "missing_field"),
        ({"type": "end", "seq": "1"}, "invalid_type"),
        ({"type": "end", "seq": -1}, "invalid_value"),
        ({"type": "end", "seq": 2**53}, "invalid_value"),
        ({"type": "end", "seq": 2**70}, "invalid_value"),
        (transcript(1, index=2**40), "invalid_value"),
        (transcript(1, text=5), "invalid_type"),
        (transcript(1, text="x" * 20_001), "too_large"),
        (transcript(1, role="system"), "invalid_value"),
        (transcript(1, text="half a \ud83d"), "invalid_value"),  # not text: no database stores it
        (transcript(1, text="NUL \x00"), "invalid_value"),  # PostgreSQL cannot store it
        ({k: v for k, v in transcript(1).items() if k != "final"}, "missing_field"),
        (
            {"type": "usage", "seq": 1, "response_id": "r", "usage": {"total_tokens": "many"}},
            "invalid_type",
        ),
        ({"type": "metric", "seq": 1, "name": "Bad Name", "value_ms": 5}, "invalid_value"),
        ({"type": "metric", "seq": 1, "name": "x", "value_ms": -5}, "invalid_value"),
        ({"type": "tool_call", "seq": 1, "call_id": "c", "name": "undo"}, "missing_field"),
        (timing(source="browser"), "invalid_value"),
        (timing(stages={}), "invalid_value"),
        (timing(stages={"heard": 5}), "invalid_value"),
        (timing(stages={"first_audio": 12.5}), "invalid_value"),
        (timing(stages={"first_audio": -1}), "invalid_value"),
        (timing(stages={"first_audio": True}), "invalid_value"),
        (timing(stages=[800]), "invalid_type"),
        (["not", "an", "object"], "invalid_message"),
    ],
)
async def test_invalid_messages_get_an_error_and_the_socket_stays_open(owner_socket, message, code):
    reply = await send(owner_socket, message)
    assert reply["type"] == "error" and reply["code"] == code and reply["message"]
    assert await send(owner_socket, transcript(7)) == {"type": "ack", "seq": 7}
    assert await LogMessage.objects.acount() == 1


def usage(seq=1, **fields):
    return {"type": "usage", "seq": seq, "response_id": "resp_1", "usage": fields}


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (usage(input_token_details="x"), "invalid_type"),  # crashed the admin's list
        (usage(input_token_details={"audio_tokens": "5"}), "invalid_type"),
        (usage(input_token_details={"cached_tokens_details": [1]}), "invalid_type"),
        (
            usage(input_token_details={"cached_tokens_details": {"text_tokens": 0.5}}),
            "invalid_type",
        ),
        (usage(output_token_details={"audio_tokens": True}), "invalid_type"),
        (usage(output_tokens=-1), "invalid_value"),
        (usage(total_tokens=10_000_001), "invalid_value"),
        (usage(output_token_details={"audio_tokens": 10**30}), "invalid_value"),
        ({**usage(), "usage": "lots"}, "invalid_type"),
    ],
)
async def test_forged_usage_is_refused_with_its_seq(owner_socket, message, code):
    reply = await send(owner_socket, message)
    assert reply["type"] == "error" and reply["code"] == code and reply["seq"] == 1
    assert "usage" in reply["message"]
    assert await LogMessage.objects.acount() == 0


async def test_usage_is_stored_in_the_known_shape_only(owner_socket):
    known = {
        "input_tokens": 20,
        "input_token_details": {
            "audio_tokens": 15,
            "cached_tokens": 4,
            "cached_tokens_details": {"audio_tokens": 4},
        },
        "output_token_details": {"text_tokens": 2},
    }
    extra = {"made_up": {"deep": ["x"]}, "output_tokens": None}
    message = usage(**json.loads(json.dumps(known)), **extra)
    message["usage"]["input_token_details"]["future_tokens"] = 3
    assert await send(owner_socket, message) == {"type": "ack", "seq": 1}
    stored = await LogMessage.objects.aget()
    assert stored.payload["usage"] == known


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{nope", "invalid_json"),
        ("[" * 50_000 + "]" * 50_000, "invalid_json"),
        ('{"type": "end", "seq": 1, "pad": "' + "x" * 300_000 + '"}', "too_large"),
    ],
)
async def test_unreadable_messages_are_errors(owner_socket, text, code):
    await owner_socket.send_to(text_data=text)
    reply = await owner_socket.receive_json_from(timeout=5)
    assert reply["code"] == code
    assert await send(owner_socket, transcript(0)) == {"type": "ack", "seq": 0}


async def test_a_replayed_seq_is_acknowledged_again_without_a_second_write(owner_socket):
    assert await send(owner_socket, transcript(3, text="first")) == {"type": "ack", "seq": 3}
    assert await send(owner_socket, transcript(3, text="changed")) == {"type": "ack", "seq": 3}
    assert await LogMessage.objects.acount() == 1
    assert (await TranscriptEntry.objects.aget()).text == "first"


async def test_out_of_order_arrival_keeps_the_newest_text_and_the_item_order(owner_socket):
    await send(owner_socket, transcript(5, "item_a", "final words", index=0))
    await send(owner_socket, transcript(2, "item_a", "early words", index=0))
    await send(owner_socket, transcript(6, "item_b", "answer", role="assistant", index=1))
    await send(owner_socket, transcript(4, "item_c", "question", index=0))
    await send(owner_socket, transcript(7, "item_a", "final words", index=2))
    entries = await database_sync_to_async(
        lambda: list(TranscriptEntry.objects.values_list("item_id", "text"))
    )()
    assert entries == [("item_c", "question"), ("item_b", "answer"), ("item_a", "final words")]


async def test_only_the_owner_may_connect(conversation, make_user):
    stranger = await database_sync_to_async(make_user)("stranger")
    for user in (stranger, None):
        socket = await connect(conversation.pk, user)
        reply = await socket.receive_json_from(timeout=5)
        assert reply["code"] == "forbidden"
        closed = await socket.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": 4403}
    missing = await connect(999_999, stranger)
    assert (await missing.receive_json_from(timeout=5))["code"] == "forbidden"


async def test_over_the_rate_a_message_is_refused_for_now_and_stored_when_resent(
    owner_socket, conversation, settings
):
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 3
    replies = [await send(owner_socket, transcript(seq, f"item_{seq}")) for seq in range(4)]
    assert [r["type"] for r in replies] == ["ack", "ack", "ack", "error"]
    refused = replies[-1]
    assert refused["code"] == "rate_limited" and refused["seq"] == 3
    assert 0 < refused["retry_after_ms"] <= 20_000  # the sliding window: two windows at most
    assert await LogMessage.objects.acount() == 3
    # The rate is the user's, not the connection's: a reconnect is refused as well...
    owner = await database_sync_to_async(lambda: conversation.user)()
    again = await connect(conversation.pk, owner)
    assert (await send(again, transcript(3, "item_3")))["code"] == "rate_limited"
    # ... and takes the resent message once the rate allows it (here, a higher limit).
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 100
    assert await send(again, transcript(3, "item_3")) == {"type": "ack", "seq": 3}
    await again.disconnect()
    assert await TranscriptEntry.objects.acount() == 4


async def test_many_quiet_sockets_of_one_user_share_the_rate_without_hoarding_it(
    conversation, settings
):
    # Each socket's first lease is one message, not a tenth of the limit: twenty tabs that
    # each send a line take 20 of the 100, not 200.
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 100
    settings.MRBLUE_LOG_CONNECTIONS_PER_USER = 20
    owner = await database_sync_to_async(lambda: conversation.user)()
    sockets = [await connect(conversation.pk, owner) for _ in range(20)]
    try:
        replies = [
            await send(socket, transcript(n, f"item_{n}")) for n, socket in enumerate(sockets)
        ]
    finally:
        for socket in sockets:
            await socket.disconnect()
    assert [reply["type"] for reply in replies] == ["ack"] * 20


async def test_a_client_far_over_the_rate_is_closed(owner_socket, settings):
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 3
    codes = [(await send(owner_socket, transcript(seq))).get("code") for seq in range(7)]
    assert codes == [
        None,
        None,
        None,
        "rate_limited",
        "rate_limited",
        "rate_limited",
        "too_many_messages",
    ]
    assert (await owner_socket.receive_output(timeout=5))["code"] == 4429


async def test_a_client_that_keeps_sending_garbage_is_closed(owner_socket):
    for _ in range(51):
        await owner_socket.send_to(text_data="garbage")
        await owner_socket.receive_json_from(timeout=5)
    reply = await owner_socket.receive_json_from(timeout=5)
    assert reply["code"] == "too_many_errors"
    assert (await owner_socket.receive_output(timeout=5))["code"] == 4429


@pytest.mark.parametrize(
    ("text", "seq"),
    [
        ('{"seq": 3, "type": "end", "pad": "' + "x" * 300_000 + '"}', 3),  # seq first
        ('{"type": "end", "pad": "' + "x" * 300_000 + '", "seq": 4}', 4),  # seq last (old panel)
        ('{"type": "end", "pad": "' + "x" * 300_000 + '"}', None),
        ('{"type": "end", "pad": "' + "x" * 300_000 + '\\", \\"seq\\": 5"}', None),  # in a string
        ('{"seq": 6, "type": "end", "text": "not closed', 6),
    ],
)
async def test_an_unreadable_message_is_answered_with_its_seq_when_it_can_be_read(
    owner_socket, text, seq
):
    await owner_socket.send_to(text_data=text)
    reply = await owner_socket.receive_json_from(timeout=5)
    assert reply["type"] == "error" and reply.get("seq") == seq
    assert await send(owner_socket, transcript(0)) == {"type": "ack", "seq": 0}


async def test_a_user_may_hold_only_so_many_log_connections(owner_socket, conversation, settings):
    settings.MRBLUE_LOG_CONNECTIONS_PER_USER = 2
    owner = await database_sync_to_async(lambda: conversation.user)()
    second = await connect(conversation.pk, owner)
    assert await send(second, transcript(1)) == {"type": "ack", "seq": 1}
    third = await connect(conversation.pk, owner)
    reply = await third.receive_json_from(timeout=5)
    assert reply["code"] == "too_many_connections" and "2" in reply["message"]
    assert (await third.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4429}
    await second.disconnect()
    fourth = await connect(conversation.pk, owner)  # a closed one frees its place
    assert await send(fourth, transcript(2)) == {"type": "ack", "seq": 2}
    await fourth.disconnect()


async def test_a_full_conversation_refuses_new_messages_with_their_seq(owner_socket, settings):
    settings.MRBLUE_LOG_MESSAGES_PER_CONVERSATION = 3
    for seq in range(3):
        assert await send(owner_socket, transcript(seq, f"item_{seq}")) == {
            "type": "ack",
            "seq": seq,
        }
    reply = await send(owner_socket, transcript(3, "item_3"))
    assert reply["code"] == "conversation_full" and reply["seq"] == 3 and "3" in reply["message"]
    assert await send(owner_socket, transcript(1, "item_1")) == {"type": "ack", "seq": 1}  # replay
    assert await LogMessage.objects.acount() == 3


async def test_messages_make_no_hop_to_close_database_connections(owner_socket, monkeypatch):
    # Channels closes stale connections before every message of every consumer (a hop to its
    # sync thread); the log's database work closes its own, so its messages skip that hop.
    import channels.consumer

    closed = []
    original = channels.consumer.aclose_old_connections

    async def counting():
        closed.append(1)
        await original()

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counting)
    for seq in range(3):
        assert await send(owner_socket, transcript(seq, f"item_{seq}")) == {
            "type": "ack",
            "seq": seq,
        }
    assert closed == []
    assert await LogMessage.objects.acount() == 3
